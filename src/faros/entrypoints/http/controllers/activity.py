"""The activity log: `/activity`, `/activity/stats`, `/activity/tasks/{id}`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, Router, get

from faros.domain.activity import ActivityFilter
from faros.entrypoints.http.deps import authenticated, caller, container_of
from faros.entrypoints.http.io import read_query, task_id_of
from faros.entrypoints.http.schemas import (
    ActivityOut,
    ActivityQuery,
    ActivityStatsOut,
    TimelineEntryOut,
    out,
    out_list,
)
from faros.entrypoints.http.validation import IntPath


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """Naive values are UTC (§3.8)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


@get("/", query=ActivityQuery)
async def activity_feed(request: Request[Any, Any, Any]) -> list[ActivityOut]:
    params = read_query(request, ActivityQuery)
    criteria = ActivityFilter(
        resource_type=params.resource_type,
        action=params.action,
        start=_utc(params.start_date),
        end=_utc(params.end_date),
        limit=params.limit,
        offset=params.offset,
    )
    entries = await container_of(request).activity.feed(caller(request), criteria)
    return out_list(entries, ActivityOut)


@get("/stats")
async def activity_stats(request: Request[Any, Any, Any]) -> ActivityStatsOut:
    return out(await container_of(request).activity.stats(caller(request)), ActivityStatsOut)


@get("/tasks/{task_id:str}")
async def task_timeline(
    request: Request[Any, Any, Any], task_id: IntPath
) -> list[TimelineEntryOut]:
    timeline = await container_of(request).activity.timeline(caller(request), task_id_of(task_id))
    return [
        TimelineEntryOut(
            id=item.entry.id,
            user_id=item.entry.user_id,
            action=item.entry.action,
            resource_type=item.entry.resource_type,
            resource_id=item.entry.resource_id,
            details=item.entry.details,
            created_at=item.entry.created_at,
            username=item.entry.username,
            summary=item.summary,
        )
        for item in timeline
    ]


router = Router(
    path="/activity",
    route_handlers=[activity_feed, activity_stats, task_timeline],
    guards=[authenticated],
    tags=["activity"],
)

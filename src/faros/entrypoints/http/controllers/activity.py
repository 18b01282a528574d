"""The activity log: `/activity`, `/activity/stats`, `/activity/tasks/{id}`."""

from __future__ import annotations

import datetime as dt

from litestar import Router, get
from litestar.di import NamedDependency

from faros.domain.activity import ActivityFilter
from faros.domain.services.activity import ActivityService
from faros.domain.users import User
from faros.entrypoints.http.deps import QUERY_FIRST, authenticated
from faros.entrypoints.http.io import task_id_of
from faros.entrypoints.http.openapi import INVALID, PROTECTED, protected_errors, task_errors
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


@get(
    "/",
    summary="List your activity feed",
    description=(
        "Any authenticated user: the entries they wrote, plus entries about tasks shared with "
        "them and collaborators' actions on tasks they own, newest first; filterable by "
        "resource type, action and date."
    ),
    query=ActivityQuery,
    dependencies=QUERY_FIRST,
    responses={**protected_errors(writes=False), 422: INVALID},
)
async def activity_feed(
    params: NamedDependency[ActivityQuery],
    activity: NamedDependency[ActivityService],
    user: NamedDependency[User],
) -> list[ActivityOut]:
    criteria = ActivityFilter(
        resource_type=params.resource_type,
        action=params.action,
        start=_utc(params.start_date),
        end=_utc(params.end_date),
        limit=params.limit,
        offset=params.offset,
    )
    entries = await activity.feed(user, criteria)
    return out_list(entries, ActivityOut)


@get(
    "/stats",
    summary="Count your activity",
    description=(
        "Any authenticated user: how many entries they wrote, by action and by resource type."
    ),
    responses=protected_errors(writes=False),
)
async def activity_stats(
    activity: NamedDependency[ActivityService], user: NamedDependency[User]
) -> ActivityStatsOut:
    return out(await activity.stats(user), ActivityStatsOut)


@get(
    "/tasks/{task_id:str}",
    summary="Get a task's history",
    description=(
        "Anyone with view permission on the task: every entry about it, its comments and its "
        "files, by anyone, oldest first, each with a readable summary."
    ),
    responses=task_errors(writes=False),
)
async def task_timeline(
    task_id: IntPath, activity: NamedDependency[ActivityService], user: NamedDependency[User]
) -> list[TimelineEntryOut]:
    timeline = await activity.timeline(user, task_id_of(task_id))
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
    security=PROTECTED,
    tags=["activity"],
)

"""The activity log in PostgreSQL: writing entries, the visible feed, counts, task timelines."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import CompoundSelect, Row, and_, any_, bindparam, func, or_, select, union_all

from faros.adapters.postgres.database import Database
from faros.adapters.postgres.query import Query
from faros.adapters.postgres.tables import activity_logs, task_shares, tasks, users
from faros.adapters.postgres.values import BIGINT_SAFE, has_nul, utc
from faros.domain.activity import ActivityEntry, ActivityFilter, ActivityStats, NewActivity
from faros.domain.ids import is_int32

_a = activity_logs.c
_SELECT = select(
    _a.id,
    _a.user_id,
    _a.action,
    _a.resource_type,
    _a.resource_id,
    _a.details,
    _a.created_at,
    users.c.username,
).outerjoin_from(activity_logs, users, users.c.id == _a.user_id)
ENTRY_COLUMNS = (
    "user_id",
    "action",
    "resource_type",
    "resource_id",
    "task_id",
    "details",
    "created_at",
)
_INSERT = Query(
    activity_logs.insert().values({name: bindparam(name) for name in ENTRY_COLUMNS}),
    transactional=True,
)


def entry_params(entry: NewActivity, prefix: str = "") -> dict[str, Any]:
    """The bind parameters of an entry's row, named `prefix` + column (the entry's fields
    are named as the columns)."""
    return {f"{prefix}{name}": getattr(entry, name) for name in ENTRY_COLUMNS}


_TIMELINE = Query(_SELECT.where(_a.task_id == bindparam("task_id")).order_by(_a.created_at, _a.id))
_STATS = Query(
    select(_a.resource_type, _a.action, func.count().label("n"))
    .where(_a.user_id == bindparam("user_id"))
    .group_by(_a.resource_type, _a.action)
)


def _visible_ids() -> CompoundSelect[Any]:
    """Ids of the entries a user may see (ActivityRepository.feed) as three index scans: the
    user's own entries (user_id), entries about the tasks the user owns and entries about the
    tasks shared with the user (task_id). The task ids are collected first as arrays so that
    `task_id = ANY(...)` probes the task_id index; joining tasks or shares to the log instead
    lets the planner pick a hash join over the whole log, and one OR can use no index at all.
    """
    own = activity_logs.alias("own")
    about_owned = activity_logs.alias("about_owned")
    about_shared = activity_logs.alias("about_shared")
    owned_ids = select(tasks.c.id).where(tasks.c.user_id == bindparam("user_id"))
    shared_ids = select(task_shares.c.task_id).where(
        task_shares.c.shared_with_user_id == bindparam("user_id")
    )
    return union_all(
        select(own.c.id).where(own.c.user_id == bindparam("user_id")),
        select(about_owned.c.id).where(
            about_owned.c.task_id == any_(func.array(owned_ids.scalar_subquery()))
        ),
        select(about_shared.c.id).where(
            about_shared.c.task_id == any_(func.array(shared_ids.scalar_subquery())),
            # A collaborator does not see the task being created or deleted.
            or_(
                about_shared.c.resource_type != "task",
                and_(about_shared.c.action != "created", about_shared.c.action != "deleted"),
            ),
        ),
    )


_FEED = _SELECT.where(_a.id.in_(_visible_ids()))
_FEED_FILTERS = {
    "resource_type": _a.resource_type == bindparam("resource_type"),
    "action": _a.action == bindparam("action"),
    "start": _a.created_at >= bindparam("start"),
    "end": _a.created_at <= bindparam("end"),
}


def _criteria(criteria: ActivityFilter) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The names of the filters in use, and every parameter of the feed statement."""
    values = {
        "resource_type": criteria.resource_type,
        "action": criteria.action,
        "start": criteria.start,
        "end": criteria.end,
    }
    used = tuple(name for name, value in values.items() if value is not None)
    params: dict[str, Any] = {name: values[name] for name in used}
    params["offset"] = min(max(criteria.offset, 0), BIGINT_SAFE)
    params["limit"] = min(max(criteria.limit, 0), BIGINT_SAFE)
    return used, params


@lru_cache(maxsize=16)
def _feed_query(filters: tuple[str, ...]) -> Query:
    """Built once per combination of filters; the values are parameters."""
    return Query(
        _FEED.where(*(_FEED_FILTERS[name] for name in filters))
        .order_by(_a.created_at.desc(), _a.id.desc())
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )


def _from_row(row: Row[Any]) -> ActivityEntry:
    return ActivityEntry(
        id=row.id,
        user_id=row.user_id,
        action=row.action,
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        details=row.details,
        created_at=utc(row.created_at),
        username=row.username,
    )


class PostgresActivityRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, entry: NewActivity) -> None:
        await self._db.execute(_INSERT, entry_params(entry))

    async def feed(self, user_id: int, criteria: ActivityFilter) -> list[ActivityEntry]:
        texts = (criteria.resource_type or "", criteria.action or "")
        if not is_int32(user_id) or any(has_nul(text) for text in texts):
            return []
        filters, params = _criteria(criteria)
        params["user_id"] = user_id
        rows = await self._db.execute(_feed_query(filters), params)
        return [_from_row(row) for row in rows]

    async def stats(self, user_id: int) -> ActivityStats:
        if not is_int32(user_id):
            return ActivityStats(total_activities=0)
        by_action: dict[str, int] = {}
        by_resource: dict[str, int] = {}
        total = 0
        for row in await self._db.execute(_STATS, {"user_id": user_id}):
            total += row.n
            by_action[row.action] = by_action.get(row.action, 0) + row.n
            by_resource[row.resource_type] = by_resource.get(row.resource_type, 0) + row.n
        return ActivityStats(total_activities=total, by_action=by_action, by_resource=by_resource)

    async def timeline(self, task_id: int) -> list[ActivityEntry]:
        if not is_int32(task_id):
            return []
        rows = await self._db.execute(_TIMELINE, {"task_id": task_id})
        return [_from_row(row) for row in rows]

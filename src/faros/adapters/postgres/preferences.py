"""Notification preferences in PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert

from faros.adapters.postgres.database import Database
from faros.adapters.postgres.query import Query
from faros.adapters.postgres.tables import notification_preferences
from faros.adapters.postgres.values import utc_or_none
from faros.domain.ids import is_int32
from faros.domain.notifications import NotificationPreferences

_p = notification_preferences.c
_COLUMNS = (
    _p.user_id,
    _p.email_verified,
    _p.email_enabled,
    _p.task_shared_with_me,
    _p.task_completed,
    _p.comment_on_my_task,
    _p.task_due_soon,
    _p.updated_at,
)
_get = select(*_COLUMNS).where(_p.user_id == bindparam("uid"))
_GET = Query(_get)
_GET_FOR_UPDATE = Query(_get.with_for_update(), transactional=True)
# The flags take their server defaults (API.md §2.8); a row a concurrent request created in
# the meantime wins and is read back afterwards.
_CREATE = Query(
    insert(notification_preferences)
    .values(user_id=bindparam("uid"), created_at=bindparam("now"))
    .on_conflict_do_nothing(index_elements=["user_id"])
    .returning(*_COLUMNS),
    transactional=True,
)
_UPDATE = Query(
    update(notification_preferences)
    .where(_p.user_id == bindparam("uid"))
    .values(
        email_verified=bindparam("email_verified"),
        email_enabled=bindparam("email_enabled"),
        task_shared_with_me=bindparam("task_shared_with_me"),
        task_completed=bindparam("task_completed"),
        comment_on_my_task=bindparam("comment_on_my_task"),
        task_due_soon=bindparam("task_due_soon"),
        updated_at=bindparam("updated_at"),
    ),
    transactional=True,
)


def _from_row(row: Row[Any]) -> NotificationPreferences:
    return NotificationPreferences(
        user_id=row.user_id,
        email_verified=row.email_verified,
        email_enabled=row.email_enabled,
        task_shared_with_me=row.task_shared_with_me,
        task_completed=row.task_completed,
        comment_on_my_task=row.comment_on_my_task,
        task_due_soon=row.task_due_soon,
        updated_at=utc_or_none(row.updated_at),
    )


class PostgresPreferencesRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_or_create(
        self, user_id: int, now: datetime, *, for_update: bool = False
    ) -> NotificationPreferences:
        if not is_int32(user_id):
            return NotificationPreferences(user_id=user_id)
        params = {"uid": user_id}
        # Read first: the row nearly always exists, and a plain read needs no transaction (a
        # locking one opens it; the lock is held until commit).
        get = _GET_FOR_UPDATE if for_update else _GET
        rows = await self._db.execute(get, params)
        if not rows:
            rows = await self._db.execute(_CREATE, {"uid": user_id, "now": now})
        if not rows:
            # Another transaction inserted it after our read; this new statement sees it.
            rows = await self._db.execute(get, params)
        return _from_row(rows[0])

    async def update(self, preferences: NotificationPreferences) -> None:
        await self._db.execute(
            _UPDATE,
            {
                "uid": preferences.user_id,
                "email_verified": preferences.email_verified,
                "email_enabled": preferences.email_enabled,
                "task_shared_with_me": preferences.task_shared_with_me,
                "task_completed": preferences.task_completed,
                "comment_on_my_task": preferences.comment_on_my_task,
                "task_due_soon": preferences.task_due_soon,
                "updated_at": preferences.updated_at,
            },
        )

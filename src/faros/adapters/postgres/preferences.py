"""Notification preferences in PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert

from faros.adapters.postgres._sql import Database, is_int32, utc_or_none
from faros.adapters.postgres.tables import notification_preferences
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
_GET = select(*_COLUMNS).where(_p.user_id == bindparam("uid"))
_GET_FOR_UPDATE = _GET.with_for_update()
# The flags take their server defaults (API.md §2.8); a row a concurrent request created in
# the meantime wins and is read back afterwards.
_CREATE = (
    insert(notification_preferences)
    .values(user_id=bindparam("uid"), created_at=bindparam("now"))
    .on_conflict_do_nothing(index_elements=["user_id"])
    .returning(*_COLUMNS)
)
_UPDATE = (
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
    )
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
        if for_update:
            # A locking read opens the transaction; the lock is held until commit.
            row = (await self._db.write(_GET_FOR_UPDATE, params)).first()
        else:
            # Read first: the row nearly always exists, and a plain read needs no transaction.
            row = (await self._db.read(_GET, params)).first()
        if row is None:
            row = (await self._db.write(_CREATE, {"uid": user_id, "now": now})).first()
        if row is None:
            # Another transaction inserted it after our read; this new statement sees it.
            get = _GET_FOR_UPDATE if for_update else _GET
            row = (await self._db.write(get, params)).one()
        return _from_row(row)

    async def update(self, preferences: NotificationPreferences) -> None:
        await self._db.write(
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

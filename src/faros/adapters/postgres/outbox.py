"""The transactional outbox in PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert

from faros.adapters.postgres._sql import BIGINT_SAFE, Database, utc
from faros.adapters.postgres.tables import outbox
from faros.domain.outbox import NewOutboxMessage, OutboxMessage

_o = outbox.c
# A NULL dedupe key never conflicts, so every message can go through the same statement.
_ADD = (
    insert(outbox)
    .values(
        kind=bindparam("kind"),
        payload=bindparam("payload", type_=_o.payload.type),
        dedupe_key=bindparam("dedupe_key"),
        status="pending",
        attempts=0,
        available_at=bindparam("now"),
        created_at=bindparam("now"),
    )
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
)
# Rows stay locked until the claiming unit of work ends; SKIP LOCKED lets other workers take
# the next due rows instead of waiting. The partial index on pending rows serves the order.
_CLAIM = (
    select(_o.id, _o.kind, _o.payload, _o.attempts, _o.created_at)
    .where(_o.status == "pending", _o.available_at <= bindparam("now"))
    .order_by(_o.available_at, _o.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_DONE = (
    update(outbox)
    .where(_o.id == bindparam("message_id"))
    .values(status="done", processed_at=bindparam("now"))
)
_RETRY = (
    update(outbox)
    .where(_o.id == bindparam("message_id"))
    .values(
        attempts=bindparam("attempts"),
        available_at=bindparam("available_at"),
        last_error=bindparam("error"),
    )
)
_DEAD = (
    update(outbox)
    .where(_o.id == bindparam("message_id"))
    .values(
        status="dead",
        attempts=bindparam("attempts"),
        processed_at=bindparam("now"),
        last_error=bindparam("error"),
    )
)
_PENDING = select(func.count()).select_from(outbox).where(_o.status == "pending")


def _storable(error: str) -> str:
    # Error texts come from arbitrary exceptions; a NUL would make the update itself fail.
    return error.replace("\x00", "\\x00")


def _from_row(row: Row[Any]) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        kind=row.kind,
        payload=row.payload,
        attempts=row.attempts,
        created_at=utc(row.created_at),
    )


class PostgresOutboxRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, message: NewOutboxMessage, now: datetime) -> None:
        params = {
            "kind": message.kind,
            "payload": message.payload,
            "dedupe_key": message.dedupe_key,
            "now": now,
        }
        await self._db.write(_ADD, params)

    async def claim(self, now: datetime, limit: int) -> list[OutboxMessage]:
        if limit <= 0:
            return []
        params = {"now": now, "limit": min(limit, BIGINT_SAFE)}
        return [_from_row(row) for row in await self._db.write(_CLAIM, params)]

    async def mark_done(self, message_id: int, now: datetime) -> None:
        await self._db.write(_DONE, {"message_id": message_id, "now": now})

    async def mark_retry(
        self, message_id: int, attempts: int, available_at: datetime, error: str
    ) -> None:
        params = {
            "message_id": message_id,
            "attempts": attempts,
            "available_at": available_at,
            "error": _storable(error),
        }
        await self._db.write(_RETRY, params)

    async def mark_dead(self, message_id: int, attempts: int, now: datetime, error: str) -> None:
        params = {
            "message_id": message_id,
            "attempts": attempts,
            "now": now,
            "error": _storable(error),
        }
        await self._db.write(_DEAD, params)

    async def pending_count(self) -> int:
        return int((await self._db.read(_PENDING)).scalar_one())

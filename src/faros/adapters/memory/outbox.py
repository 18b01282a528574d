"""The outbox: side effects queued in the same transaction as the change causing them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from faros.adapters.memory.store import OutboxRow, Transaction, json_copy, utc
from faros.domain.outbox import NewOutboxMessage, OutboxMessage

PENDING, DONE, DEAD = "pending", "done", "dead"


class MemoryOutboxRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._db = tx.store

    async def add(self, message: NewOutboxMessage, now: datetime) -> None:
        key = message.dedupe_key
        if key is not None and key in self._db.outbox_by_key:
            return
        now = utc(now)
        row = OutboxRow(
            id=self._db.next_id("outbox"),
            kind=message.kind,
            payload=json_copy(message.payload),
            dedupe_key=key,
            status=PENDING,
            attempts=0,
            available_at=now,
            created_at=now,
        )
        self._tx.put(self._db.outbox, row.id, row)
        if key is not None:
            self._tx.put(self._db.outbox_by_key, key, row.id)

    async def claim(self, now: datetime, limit: int) -> list[OutboxMessage]:
        # Units of work on a memory store never overlap, so no message is held by anyone else.
        due = sorted(
            (
                row
                for row in self._db.outbox.values()
                if row.status == PENDING and row.available_at <= now
            ),
            key=lambda row: (row.available_at, row.id),
        )
        return [
            OutboxMessage(row.id, row.kind, json_copy(row.payload), row.attempts, row.created_at)
            for row in due[: max(limit, 0)]
        ]

    async def lease(self, now: datetime, until: datetime, limit: int) -> list[OutboxMessage]:
        taken = await self.claim(now, limit)
        until = utc(until)
        for message in taken:
            message.attempts += 1
            row = self._db.outbox[message.id]
            changed = replace(row, attempts=message.attempts, available_at=until)
            self._tx.put(self._db.outbox, message.id, changed)
        return sorted(taken, key=lambda message: message.id)

    def _row(self, message_id: int) -> OutboxRow | None:
        return self._db.outbox.get(message_id)

    async def mark_done(self, message_id: int, now: datetime) -> None:
        if row := self._row(message_id):
            changed = replace(row, status=DONE, processed_at=utc(now))
            self._tx.put(self._db.outbox, message_id, changed)

    async def mark_retry(
        self, message_id: int, attempts: int, available_at: datetime, error: str
    ) -> None:
        if row := self._row(message_id):
            changed = replace(
                row, attempts=attempts, available_at=utc(available_at), last_error=error
            )
            self._tx.put(self._db.outbox, message_id, changed)

    async def mark_dead(self, message_id: int, attempts: int, now: datetime, error: str) -> None:
        if row := self._row(message_id):
            changed = replace(
                row, status=DEAD, attempts=attempts, processed_at=utc(now), last_error=error
            )
            self._tx.put(self._db.outbox, message_id, changed)

    async def pending_count(self) -> int:
        return sum(row.status == PENDING for row in self._db.outbox.values())

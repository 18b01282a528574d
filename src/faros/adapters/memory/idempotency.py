"""Idempotency keys in memory.

Units of work on a memory store run one at a time, so a key is never held by another
unfinished one: `claim` is never `busy` here (a concurrent retry waits for the first request's
unit of work and then replays its answer).
"""

from __future__ import annotations

from datetime import datetime

from faros.adapters.memory.store import Transaction, utc
from faros.domain.idempotency import IdempotencyRecord
from faros.ports.idempotency_repository import Claim


class MemoryIdempotencyRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._db = tx.store

    async def claim(self, user_id: int, key: str, now: datetime) -> Claim:
        record = self._db.idempotency.get((user_id, key))
        if record is None or record.expires_at <= utc(now):
            return Claim()
        return Claim(record=record)

    async def add(self, record: IdempotencyRecord) -> None:
        stored = IdempotencyRecord(
            user_id=record.user_id,
            key=record.key,
            fingerprint=bytes(record.fingerprint),
            response=record.response,
            created_at=utc(record.created_at),
            expires_at=utc(record.expires_at),
        )
        self._tx.put(self._db.idempotency, (record.user_id, record.key), stored)

    async def purge_expired(self, now: datetime, limit: int) -> int:
        expired = [
            pair for pair, record in self._db.idempotency.items() if record.expires_at <= utc(now)
        ][:limit]
        for pair in expired:
            self._tx.remove(self._db.idempotency, pair)
        return len(expired)

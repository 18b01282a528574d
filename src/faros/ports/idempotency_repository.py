"""Where the first answers to idempotency keys are kept (domain/idempotency.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from faros.domain.idempotency import IdempotencyRecord


@dataclass(frozen=True, slots=True)
class Claim:
    """What `claim` found: another unfinished transaction holds the key (`busy`), or this
    one now does, with the key's unexpired record if it has one."""

    busy: bool = False
    record: IdempotencyRecord | None = None


class IdempotencyRepository(Protocol):
    async def claim(self, user_id: int, key: str, now: datetime) -> Claim:
        """Hold the key until this unit of work ends, unless another one holds it (`busy`,
        answered at once, never waited for), and read its record if not expired by `now`."""
        ...

    async def add(self, record: IdempotencyRecord) -> None:
        """Keep `record` (replacing an expired one of the same key); needs the key claimed.

        May also drop a few other records expired by `record.created_at`, so the store stays
        about a day of keys without a job of its own."""
        ...

    async def purge_expired(self, now: datetime, limit: int) -> int:
        """Delete up to `limit` records expired by `now`; how many went."""
        ...

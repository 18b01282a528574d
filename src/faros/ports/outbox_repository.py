from __future__ import annotations

from datetime import datetime
from typing import Protocol

from faros.domain.outbox import NewOutboxMessage, OutboxMessage


class OutboxRepository(Protocol):
    async def add(self, message: NewOutboxMessage, now: datetime) -> None:
        """Enqueue; a message whose dedupe key is already queued or sent is dropped."""
        ...

    async def claim(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """Lock due pending messages for this unit of work, skipping ones others hold."""
        ...

    async def lease(self, now: datetime, until: datetime, limit: int) -> list[OutboxMessage]:
        """Take up to `limit` due pending messages, longest due first, skipping ones others
        hold; they are returned in id order.

        Each one's `attempts` is counted up (the returned messages carry the new count) and it
        is not due again before `until`, so no other worker takes it meanwhile. The lease
        holds once this unit of work commits; recording an outcome ends it.
        """
        ...

    async def mark_done(self, message_id: int, now: datetime) -> None: ...

    async def mark_retry(
        self, message_id: int, attempts: int, available_at: datetime, error: str
    ) -> None: ...

    async def mark_dead(
        self, message_id: int, attempts: int, now: datetime, error: str
    ) -> None: ...

    async def pending_count(self) -> int: ...

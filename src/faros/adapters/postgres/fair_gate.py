"""A first-come, first-served limit in front of a connection pool (the driver pool's).

A pool that hands connections to waiters through an `asyncio.Queue` (SQLAlchemy's and
asyncpg's do) lets a newly arriving request take a connection just released to a waiter; the
waiter goes to the back of the line, and under load a few requests wait for hundreds of
milliseconds while most wait for none (bench/README.md). `asyncio.Semaphore` wakes waiters in
order, so letting no more requests reach a pool than it has connections keeps waits fair.
"""

from __future__ import annotations

import asyncio

from faros.adapters.postgres.engine import POOL_TIMEOUT_SECONDS


class FairGate:
    __slots__ = ("_slots",)

    def __init__(self, size: int) -> None:
        self._slots = asyncio.Semaphore(size)

    async def enter(self) -> None:
        """Wait for a slot, in arrival order; TimeoutError (an outage: 503) after the pool's
        own check-out timeout."""
        if not self._slots.locked():
            await self._slots.acquire()  # free and nobody waiting: no suspension
            return
        async with asyncio.timeout(POOL_TIMEOUT_SECONDS):
            await self._slots.acquire()

    def leave(self) -> None:
        self._slots.release()

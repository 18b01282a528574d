"""Fixed-window rate limiting in process memory (no Redis configured)."""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter

from faros.ports.rate_limiter import RateDecision, RateLimit


class MemoryRateLimiter:
    """`RateLimiter` port on `limits`' in-memory storage (per process)."""

    def __init__(self) -> None:
        self._storage: Storage = MemoryStorage()
        self._strategy = FixedWindowRateLimiter(self._storage)

    async def hit(self, limit: RateLimit, key: str) -> RateDecision:
        item = RateLimitItemPerSecond(limit.amount, multiples=limit.per_seconds)
        allowed = await self._strategy.hit(item, key)
        stats = await self._strategy.get_window_stats(item, key)
        # At least 1 s: the window exists (we just hit it), and "retry after 0" invites a retry
        # that would land in the same window.
        reset_after = max(1, math.ceil(stats.reset_time - time.time()))
        return RateDecision(
            allowed=allowed, remaining=stats.remaining, reset_after_seconds=reset_after
        )

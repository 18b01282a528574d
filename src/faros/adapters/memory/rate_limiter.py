"""Fixed-window rate limiting in process memory (no Redis, or Redis down)."""

from __future__ import annotations

import math
import time
from typing import Final

from limits import (
    RateLimitItem,
    RateLimitItemPerDay,
    RateLimitItemPerHour,
    RateLimitItemPerMinute,
    RateLimitItemPerSecond,
)
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter

from faros.ports.rate_limiter import RateDecision, RateLimit

# Named granularities keep the stored keys readable ("…/5/1/minute" rather than "…/5/60/second");
# any other period is counted in seconds.
_NAMED_PERIODS: Final[dict[int, type[RateLimitItem]]] = {
    60: RateLimitItemPerMinute,
    3600: RateLimitItemPerHour,
    86400: RateLimitItemPerDay,
}


def limit_item(limit: RateLimit) -> RateLimitItem:
    """The `limits` item for a port-level `RateLimit`."""
    named = _NAMED_PERIODS.get(limit.per_seconds)
    if named is not None:
        return named(limit.amount)
    return RateLimitItemPerSecond(limit.amount, multiples=limit.per_seconds)


async def hit_fixed_window(
    strategy: FixedWindowRateLimiter, limit: RateLimit, key: str
) -> RateDecision:
    """Count one hit and describe the window; shared by the memory and Redis limiters."""
    item = limit_item(limit)
    allowed = await strategy.hit(item, key)
    stats = await strategy.get_window_stats(item, key)
    # At least 1 s: the window exists (we just hit it), and "retry after 0" invites a retry
    # that would land in the same window.
    reset_after = max(1, math.ceil(stats.reset_time - time.time()))
    return RateDecision(allowed=allowed, remaining=stats.remaining, reset_after_seconds=reset_after)


class MemoryRateLimiter:
    """`RateLimiter` port on `limits`' in-memory storage (per process)."""

    def __init__(self) -> None:
        self._storage: Storage = MemoryStorage()
        self._strategy = FixedWindowRateLimiter(self._storage)

    async def hit(self, limit: RateLimit, key: str) -> RateDecision:
        return await hit_fixed_window(self._strategy, limit, key)

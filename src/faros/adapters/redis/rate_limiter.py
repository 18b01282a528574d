"""Rate-limit counters in Redis (API.md §1.10, D18), shared by every worker and process.

While Redis is unreachable the counters live in this process's memory, in `limits`' own memory
storage (D18); when it answers again, counting goes back to Redis. Counts made in memory during
the outage are not carried over: a window's worth of leniency at most.
"""

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
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter

from faros.adapters.redis.resilience import (
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_COOLDOWN_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    CircuitBreaker,
    RedisTimeouts,
    fail_fast_pool,
)
from faros.ports.rate_limiter import RateDecision, RateLimit

DEFAULT_KEY_PREFIX = "faros:limits"
# Named granularities keep the stored keys readable ("…/5/1/minute" rather than "…/5/60/second");
# any other period is counted in seconds.
_NAMED_PERIODS: Final[dict[int, type[RateLimitItem]]] = {
    60: RateLimitItemPerMinute,
    3600: RateLimitItemPerHour,
    86400: RateLimitItemPerDay,
}


class RedisRateLimiter:
    """`RateLimiter` port on `limits`' Redis storage, with an in-memory fallback.

    Instances on the same Redis and `key_prefix` share their counts. `breaker` may be shared
    with a `RedisCache` on the same server (see `CircuitBreaker`).
    """

    def __init__(
        self,
        url: str,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
        cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        timeouts = RedisTimeouts(read=timeout_seconds, connect=connect_timeout_seconds)
        # Our own pool, so the fail-fast options apply (`limits` would build a client with
        # redis-py's default retries) and so aclose() can release it.
        self._pool = fail_fast_pool(url, timeouts)
        storage = RedisStorage(
            _limits_uri(url), implementation="redispy", key_prefix=key_prefix,
            connection_pool=self._pool,  # type: ignore[arg-type]  # popped before redis-py sees it
        )  # fmt: skip
        self._strategy = FixedWindowRateLimiter(storage)
        self._fallback = FixedWindowRateLimiter(MemoryStorage())
        self._breaker = breaker or CircuitBreaker(
            "rate limits",
            deadline_seconds=timeouts.deadline,
            cooldown_seconds=cooldown_seconds,
        )

    @property
    def available(self) -> bool:
        return self._breaker.available

    async def hit(self, limit: RateLimit, key: str) -> RateDecision:
        async def in_redis() -> RateDecision:
            return await _hit(self._strategy, limit, key)

        async def in_memory() -> RateDecision:
            return await _hit(self._fallback, limit, key)

        return await self._breaker.call(in_redis, in_memory)

    async def aclose(self) -> None:
        await self._pool.aclose()


async def _hit(strategy: FixedWindowRateLimiter, limit: RateLimit, key: str) -> RateDecision:
    """Count one hit and describe the window."""
    item = _limit_item(limit)
    allowed = await strategy.hit(item, key)
    stats = await strategy.get_window_stats(item, key)
    # At least 1 s: the window exists (we just hit it), and "retry after 0" invites a retry
    # that would land in the same window.
    reset_after = max(1, math.ceil(stats.reset_time - time.time()))
    return RateDecision(allowed=allowed, remaining=stats.remaining, reset_after_seconds=reset_after)


def _limit_item(limit: RateLimit) -> RateLimitItem:
    named = _NAMED_PERIODS.get(limit.per_seconds)
    if named is not None:
        return named(limit.amount)
    return RateLimitItemPerSecond(limit.amount, multiples=limit.per_seconds)


def _limits_uri(url: str) -> str:
    """`limits` picks its backend from the scheme: `async+redis://…`, `async+redis+unix://…`."""
    if url.startswith("unix://"):
        return "async+redis+" + url
    return "async+" + url

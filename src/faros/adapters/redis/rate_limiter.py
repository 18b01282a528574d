"""Rate-limit counters in Redis (API.md §1.10, D18), shared by every worker and process.

While Redis is unreachable the counters live in this process's memory (D18: "Without Redis the
counters live in process memory"); when it answers again, counting goes back to Redis. Counts
made in memory during the outage are not carried over: a window's worth of leniency at most.
"""

from __future__ import annotations

from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter

from faros.adapters.memory.rate_limiter import MemoryRateLimiter, hit_fixed_window
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
        self._fallback = MemoryRateLimiter()
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
            return await hit_fixed_window(self._strategy, limit, key)

        async def in_memory() -> RateDecision:
            return await self._fallback.hit(limit, key)

        return await self._breaker.call(in_redis, in_memory)

    async def aclose(self) -> None:
        await self._pool.aclose()


def _limits_uri(url: str) -> str:
    """`limits` picks its backend from the scheme: `async+redis://…`, `async+redis+unix://…`."""
    if url.startswith("unix://"):
        return "async+redis+" + url
    return "async+" + url

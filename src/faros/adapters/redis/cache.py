"""The stats cache in Redis (API.md §6, D17): shared by all workers, skipped while Redis is down."""

from __future__ import annotations

from typing import Final

from redis.asyncio import Redis

from faros.adapters.redis.missed_removals import DEFAULT_MAX_MISSED, MissedRemovals
from faros.adapters.redis.resilience import (
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_COOLDOWN_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    CircuitBreaker,
    RedisTimeouts,
    fail_fast_client,
)

# Removals replayed per cache call once Redis is back: one DEL of this many keys stays well within
# the read timeout, so a long outage's backlog never makes one call slow enough to trip the breaker.
REPLAY_BATCH: Final = 500


async def _nothing() -> None:
    return None


class RedisCache:
    """`Cache` port on Redis. Any Redis failure reads as a miss (or a no-op write), never raises.

    `target` is a URL (the cache then owns its fail-fast client) or an existing client (whose
    timeouts are the caller's business; the breaker's deadline still bounds every call). Keys
    are used exactly as given, after `key_prefix` (empty in production; tests isolate with it).
    `breaker` may be shared with a `RedisRateLimiter` on the same server (see `CircuitBreaker`);
    the timeouts and cool-down arguments then only shape the client.

    Removals that cannot reach Redis are replayed when it answers again (`MissedRemovals`), so
    an outage never leaves stale entries behind in this process's view. Another process sharing
    the Redis may still read such an entry until this one replays it: at most one breaker
    cool-down after Redis is back, as long as this process serves requests.
    """

    def __init__(
        self,
        target: str | Redis,
        *,
        key_prefix: str = "",
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
        cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
        max_missed_removals: int = DEFAULT_MAX_MISSED,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        timeouts = RedisTimeouts(read=timeout_seconds, connect=connect_timeout_seconds)
        if isinstance(target, str):
            self._client = fail_fast_client(target, timeouts)
            self._owns_client = True
        else:
            self._client = target
            self._owns_client = False
        self._prefix = key_prefix
        self._breaker = breaker or CircuitBreaker(
            "cache",
            deadline_seconds=timeouts.deadline,
            cooldown_seconds=cooldown_seconds,
        )
        self._missed = MissedRemovals(max_missed_removals)

    @property
    def available(self) -> bool:
        return self._breaker.available

    @property
    def missed_removals(self) -> int:
        """How many keys still wait for their removal to reach Redis (for tests and metrics)."""
        return len(self._missed)

    async def get(self, key: str) -> bytes | None:
        async def read() -> bytes | None:
            await self._replay_missed()
            if key in self._missed:
                return None  # Redis may still hold the value this process failed to remove
            value = await self._client.get(self._prefix + key)
            # A client made with decode_responses=True hands back str; the port speaks bytes.
            return value.encode() if isinstance(value, str) else value

        return await self._breaker.call(read, _nothing)

    async def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        sent = False

        async def write() -> None:
            nonlocal sent
            await self._replay_missed()
            sent = True
            if ttl_seconds <= 0:  # Redis refuses EX 0; an already-expired entry is no entry
                await self._client.delete(self._prefix + key)
            else:
                await self._client.set(self._prefix + key, value, ex=ttl_seconds)

        async def unsure() -> None:
            if sent:  # it may still land (a hung Redis works off its backlog when resumed)
                self._missed.add(key)

        await self._breaker.call(write, unsure)

    async def delete(self, *keys: str) -> None:
        if not keys:
            return  # DEL with no key is a Redis syntax error

        async def remove() -> None:
            await self._replay_missed()
            await self._client.delete(*(self._prefix + key for key in keys))

        async def remember() -> None:
            self._missed.add(*keys)

        await self._breaker.call(remove, remember)

    async def ping(self) -> bool:
        """Whether Redis answers (for health reporting); False while the breaker is open."""

        async def answer() -> bool:
            return bool(await self._client.ping())

        async def no() -> bool:
            return False

        return await self._breaker.call(answer, no)

    async def aclose(self) -> None:
        """Close the connections, if this cache created the client."""
        if self._owns_client:
            await self._client.aclose()

    async def _replay_missed(self) -> None:
        """Delete one batch of missed keys in Redis; raises (to the breaker) if it cannot."""
        if not self._missed:
            return
        batch = self._missed.batch(REPLAY_BATCH)
        await self._client.delete(*(self._prefix + key for key in batch))
        self._missed.settled(batch)

"""The stats cache in Redis (API.md §6, D17): shared by all workers, skipped while Redis is down."""

from __future__ import annotations

from redis.asyncio import Redis

from faros.adapters.redis.resilience import (
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_COOLDOWN_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    CircuitBreaker,
    RedisTimeouts,
    fail_fast_client,
)


async def _nothing() -> None:
    return None


class RedisCache:
    """`Cache` port on Redis. Any Redis failure reads as a miss (or a no-op write), never raises.

    `target` is a URL (the cache then owns its fail-fast client) or an existing client (whose
    timeouts are the caller's business; the breaker's deadline still bounds every call). Keys
    are used exactly as given, after `key_prefix` (empty in production; tests isolate with it).
    """

    def __init__(
        self,
        target: str | Redis,
        *,
        key_prefix: str = "",
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS,
        cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
    ) -> None:
        timeouts = RedisTimeouts(read=timeout_seconds, connect=connect_timeout_seconds)
        if isinstance(target, str):
            self._client = fail_fast_client(target, timeouts)
            self._owns_client = True
        else:
            self._client = target
            self._owns_client = False
        self._prefix = key_prefix
        self._breaker = CircuitBreaker(
            "cache",
            deadline_seconds=timeouts.deadline,
            cooldown_seconds=cooldown_seconds,
        )

    @property
    def available(self) -> bool:
        return self._breaker.available

    async def get(self, key: str) -> bytes | None:
        async def read() -> bytes | None:
            value = await self._client.get(self._prefix + key)
            # A client made with decode_responses=True hands back str; the port speaks bytes.
            return value.encode() if isinstance(value, str) else value

        return await self._breaker.call(read, _nothing)

    async def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        async def write() -> None:
            if ttl_seconds <= 0:  # Redis refuses EX 0; an already-expired entry is no entry
                await self._client.delete(self._prefix + key)
            else:
                await self._client.set(self._prefix + key, value, ex=ttl_seconds)

        await self._breaker.call(write, _nothing)

    async def delete(self, *keys: str) -> None:
        if not keys:
            return  # DEL with no key is a Redis syntax error

        async def remove() -> None:
            await self._client.delete(*(self._prefix + key for key in keys))

        await self._breaker.call(remove, _nothing)

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

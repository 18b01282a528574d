"""Contract of the `RateLimiter` port, run against every adapter (memory and a real Redis)."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from faros.adapters.memory.rate_limiter import MemoryRateLimiter
from faros.adapters.redis.rate_limiter import RedisRateLimiter
from faros.ports.rate_limiter import RateLimit, RateLimiter

LOGIN = RateLimit(amount=5, per_seconds=60)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    redis_url: str = request.getfixturevalue("redis_url")
    adapter = RedisRateLimiter(redis_url, key_prefix=f"test:{uuid.uuid4().hex}")
    yield adapter
    await adapter.aclose()


def _unused_port() -> int:
    """A port nothing listens on (just released), so connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _key() -> str:
    # Unique per test (the Redis server is shared), in the shape the routes use.
    return f"ip_{uuid.uuid4().hex}:/auth/login"


async def test_first_hit_is_allowed_and_counted(limiter: RateLimiter) -> None:
    decision = await limiter.hit(LOGIN, _key())
    assert decision.allowed
    assert decision.remaining == 4
    assert 1 <= decision.reset_after_seconds <= 60


async def test_hits_beyond_the_amount_are_refused(limiter: RateLimiter) -> None:
    key = _key()
    decisions = [await limiter.hit(LOGIN, key) for _ in range(7)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0, 0]
    assert all(1 <= d.reset_after_seconds <= 60 for d in decisions)


async def test_keys_are_counted_separately(limiter: RateLimiter) -> None:
    first, second = _key(), _key()
    limit = RateLimit(amount=1, per_seconds=60)
    assert (await limiter.hit(limit, first)).allowed
    assert not (await limiter.hit(limit, first)).allowed
    assert (await limiter.hit(limit, second)).allowed


async def test_different_limits_on_one_key_are_counted_separately(limiter: RateLimiter) -> None:
    key = _key()
    per_minute, per_hour = RateLimit(1, 60), RateLimit(1, 3600)
    assert (await limiter.hit(per_minute, key)).allowed
    assert (await limiter.hit(per_hour, key)).allowed
    decision = await limiter.hit(per_hour, key)
    assert not decision.allowed
    assert 3590 <= decision.reset_after_seconds <= 3600


async def test_the_window_is_fixed_and_resets(limiter: RateLimiter) -> None:
    key, limit = _key(), RateLimit(amount=1, per_seconds=1)
    assert (await limiter.hit(limit, key)).allowed
    assert not (await limiter.hit(limit, key)).allowed
    started = time.monotonic()
    while not (await limiter.hit(limit, key)).allowed:
        assert time.monotonic() - started < 3.0, "window never reset"
        await asyncio.sleep(0.05)


async def test_odd_periods_are_supported(limiter: RateLimiter) -> None:
    key, limit = _key(), RateLimit(amount=2, per_seconds=90)
    await limiter.hit(limit, key)
    decision = await limiter.hit(limit, key)
    assert decision.allowed
    assert decision.remaining == 0
    assert 80 <= decision.reset_after_seconds <= 90


async def test_concurrent_hits_never_exceed_the_amount(limiter: RateLimiter) -> None:
    key, limit = _key(), RateLimit(amount=10, per_seconds=60)
    decisions = await asyncio.gather(*(limiter.hit(limit, key) for _ in range(30)))
    assert sum(d.allowed for d in decisions) == 10


# --------------------------------------------------------------------------- adapter specifics


@pytest.mark.redis
async def test_redis_limiters_on_one_server_share_counts(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    first = RedisRateLimiter(redis_url, key_prefix=prefix)
    second = RedisRateLimiter(redis_url, key_prefix=prefix)  # e.g. another worker process
    key, limit = _key(), RateLimit(amount=3, per_seconds=60)
    try:
        assert (await first.hit(limit, key)).remaining == 2
        assert (await second.hit(limit, key)).remaining == 1
        assert (await first.hit(limit, key)).allowed
        assert not (await second.hit(limit, key)).allowed
    finally:
        await first.aclose()
        await second.aclose()


@pytest.mark.redis
async def test_redis_limiter_keeps_its_counters_under_its_prefix(redis_url: str) -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    limiter = RedisRateLimiter(redis_url, key_prefix=prefix)
    raw = Redis.from_url(redis_url)
    try:
        await limiter.hit(LOGIN, "user_1:/tasks")
        keys = [key async for key in raw.scan_iter(match=f"{prefix}:*")]
        assert len(keys) == 1
        assert 55 <= await raw.ttl(keys[0]) <= 60
    finally:
        await limiter.aclose()
        await raw.aclose()


async def test_redis_limiter_without_a_server_counts_in_memory() -> None:
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{_unused_port()}/0")
    key, limit = _key(), RateLimit(amount=2, per_seconds=60)
    try:
        decisions = [await limiter.hit(limit, key) for _ in range(3)]
        assert [d.allowed for d in decisions] == [True, True, False]
        assert not limiter.available
    finally:
        await limiter.aclose()

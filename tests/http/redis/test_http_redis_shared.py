"""Several app instances on one Redis: one set of rate-limit counters, one stats cache (D17, D18).

Two in-process apps (`first`, `second`) stand for two server processes: separate containers,
separate connection pools and separate in-memory fallbacks, the same database and the same
Redis. Whatever one sees of the other's traffic can only have come through Redis. Also here:
X-Forwarded-For behind trusted proxies, FAROS_RATE_LIMITS=off, and the exact 429 headers.

Every test speaks from client addresses of its own, so the per-address budgets never meet.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from redis.asyncio import Redis

from throwaway_redis import RedisKeys, ThrowAwayRedis

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PROXY = "10.0.0.1"  # trusted by address
PROXY_NETWORK = "10.1.0.0/16"  # trusted as a network
TRUSTED = (PROXY, PROXY_NETWORK)
WRONG = {"password": "wrong-password"}


@pytest.fixture(scope="module")
async def first(
    database_url: str, redis_server: ThrowAwayRedis, kit: Any, tmp_path_factory: Any
) -> AsyncIterator[Litestar]:
    async with _app(database_url, redis_server, kit, tmp_path_factory.mktemp("a")) as app:
        yield app


@pytest.fixture(scope="module")
async def second(
    database_url: str, redis_server: ThrowAwayRedis, kit: Any, tmp_path_factory: Any
) -> AsyncIterator[Litestar]:
    async with _app(database_url, redis_server, kit, tmp_path_factory.mktemp("b")) as app:
        yield app


@asynccontextmanager
async def _app(
    database_url: str, server: ThrowAwayRedis, kit: Any, folder: Path, **extra: Any
) -> AsyncIterator[Litestar]:
    values = {"redis_url": server.url, "rate_limits": True, "trusted_proxies": TRUSTED, **extra}
    settings = kit.make_settings(folder, **values)
    async with kit.running(kit.build_app(settings, database_url)) as app:
        yield app


async def _login(client: httpx.AsyncClient, username: str, **headers: str) -> httpx.Response:
    client.cookies.clear()
    return await client.post(
        "/auth/login", json={"username": username, **WRONG}, headers=headers or None
    )


def _assert_login_limited(response: httpx.Response) -> int:
    """The contract's 429 for the login route, with D18's headers exactly; returns Retry-After."""
    assert response.status_code == 429, response.text
    assert response.json() == {"error": "Rate limit exceeded: 5 per 1 minute"}
    assert response.headers["content-type"] == "application/json"
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit(), retry_after  # delta-seconds, not an HTTP date
    assert 1 <= int(retry_after) <= 60
    assert response.headers["ratelimit-policy"] == '"login";q=5;w=60'
    assert response.headers["ratelimit"] == f'"login";r=0;t={retry_after}'
    return int(retry_after)


# --------------------------------------------------------------------------- (a) shared state


async def test_two_apps_share_the_login_budget_of_an_address(
    first: Litestar, second: Litestar, kit: Any, redis_keys: RedisKeys
) -> None:
    address = "10.50.0.1"
    async with (
        kit.new_client(first, client_ip=address) as a,
        kit.new_client(second, client_ip=address) as b,
    ):
        for _ in range(5):
            assert (await _login(a, "nobody_here")).status_code == 401
        _assert_login_limited(await _login(b, "nobody_here"))
        # And the other way round: what B counted, A sees.
        _assert_login_limited(await _login(a, "nobody_here"))
    assert len(await redis_keys(f"faros:limits*login:ip_{address}*")) == 1


async def test_two_apps_share_one_stats_cache_and_invalidate_each_other(
    first: Litestar, second: Litestar, kit: Any, redis_server: ThrowAwayRedis
) -> None:
    async with kit.new_client(first) as a, kit.new_client(second) as b:
        via_a, via_b = kit.Api(a), kit.Api(b)
        owner = await via_a.user()
        await via_a.task(owner, tags=["x"])
        stats = await via_a.get(owner, "/tasks/stats")
        assert stats.json()["total"] == 1
        key = f"stats:user_{owner.id}"
        raw = Redis.from_url(redis_server.url, socket_timeout=2)
        try:
            cached = await raw.get(key)  # exactly this key: no prefix in production
            assert cached is not None
            assert json.loads(cached) == stats.json()
            # B serves A's entry: doctor it in Redis and B answers with the doctored numbers.
            await raw.set(key, json.dumps({**stats.json(), "total": 999}), keepttl=True)
            assert (await via_b.get(owner, "/tasks/stats")).json()["total"] == 999
            # A mutation through B removes the entry that A made...
            await via_b.task(owner)
            assert await raw.get(key) is None
        finally:
            await raw.aclose()
        # ...so A computes fresh numbers.
        fresh = (await via_a.get(owner, "/tasks/stats")).json()
        assert (fresh["total"], fresh["incomplete"], fresh["by_tag"]) == (2, 2, {"x": 1})


async def test_two_apps_share_the_per_user_task_budget(
    first: Litestar, second: Litestar, kit: Any, redis_keys: RedisKeys
) -> None:
    async with kit.new_client(first) as a, kit.new_client(second) as b:
        owner = await kit.Api(a).user()
        for index in range(100):
            client = a if index % 2 else b
            response = await client.post("/tasks", json={"title": f"t{index}"}, headers=owner.auth)
            assert response.status_code == 201, (index, response.text)
        refused = await a.post("/tasks", json={"title": "101st"}, headers=owner.auth)
        assert refused.status_code == 429
        assert refused.json() == {"error": "Rate limit exceeded: 100 per 1 hour"}
        assert refused.headers["ratelimit-policy"] == '"create-task";q=100;w=3600'
        retry_after = refused.headers["retry-after"]
        assert 1 <= int(retry_after) <= 3600
        assert refused.headers["ratelimit"] == f'"create-task";r=0;t={retry_after}'
    assert len(await redis_keys(f"faros:limits*create-task:user_{owner.id}/*")) == 1


async def test_two_apps_share_the_password_limits(
    first: Litestar, second: Litestar, kit: Any, redis_keys: RedisKeys
) -> None:
    wrong = {"current_password": "not-the-password", "new_password": "another-pass-1"}
    async with (
        kit.new_client(first, client_ip="10.51.0.1") as a,
        kit.new_client(second, client_ip="10.51.0.2") as b,
    ):
        owner = await kit.Api(a).user()
        for index in range(5):
            client = a if index % 2 else b
            response = await client.patch(
                "/users/me/change-password", json=wrong, headers=owner.auth
            )
            assert response.status_code == 400, (index, response.text)
        refused = await a.patch("/users/me/change-password", json=wrong, headers=owner.auth)
        assert refused.status_code == 429
        assert refused.json() == {"error": "Rate limit exceeded: 5 per 1 minute"}
        assert refused.headers["ratelimit-policy"] == '"change-password";q=5;w=60'
        retry_after = refused.headers["retry-after"]
        assert refused.headers["ratelimit"] == f'"change-password";r=0;t={retry_after}'
        # The account's password budget counted the login and the five changes through both
        # apps: four more wrong logins from a second address, and the fifth is refused.
        for _ in range(4):
            assert (await _login(b, owner.username)).status_code == 401
        over = await _login(b, owner.username)
        assert over.status_code == 429
        assert over.json() == {"error": "Rate limit exceeded: 10 per 1 minute"}
        assert over.headers["ratelimit-policy"] == '"passwords";q=10;w=60'
    assert len(await redis_keys(f"faros:limits*change-password:user_{owner.id}/*")) == 1
    assert len(await redis_keys(f"faros:limits*passwords:account_{owner.username}/*")) == 1
    assert len(await redis_keys("faros:limits*passwords:ip_10.51.0.2/*")) == 1


# --------------------------------------------------------------------------- (c) proxies


async def test_clients_behind_a_trusted_proxy_have_budgets_of_their_own(
    first: Litestar, kit: Any, redis_keys: RedisKeys
) -> None:
    nobody = kit.unique("nobody")  # the name's own budget is not the subject here
    alice, bob = "203.0.113.10", "203.0.113.11"
    async with kit.new_client(first, client_ip=PROXY) as proxy:
        for _ in range(5):
            assert (await _login(proxy, nobody, **{"X-Forwarded-For": alice})).status_code == 401
        _assert_login_limited(await _login(proxy, nobody, **{"X-Forwarded-For": alice}))
        # Bob comes through the same proxy and still has his whole budget.
        for _ in range(5):
            assert (await _login(proxy, nobody, **{"X-Forwarded-For": bob})).status_code == 401
        _assert_login_limited(await _login(proxy, nobody, **{"X-Forwarded-For": bob}))
    assert len(await redis_keys(f"faros:limits*login:ip_{alice}/*")) == 1
    assert len(await redis_keys(f"faros:limits*login:ip_{bob}/*")) == 1
    # The proxy itself was never charged.
    assert await redis_keys(f"faros:limits*login:ip_{PROXY}/*") == []


async def test_the_chain_is_read_from_the_right_past_our_own_proxies(
    first: Litestar, kit: Any, redis_keys: RedisKeys
) -> None:
    nobody = kit.unique("nobody")  # the name's own budget is not the subject here
    # Client → (its own proxy, which claims anything) → 10.1.2.3 (ours) → 10.0.0.1 (ours).
    chain = "198.51.100.77, 198.51.100.20, 10.1.2.3"
    async with kit.new_client(first, client_ip=PROXY) as proxy:
        # A second header line, as some proxies add instead of extending the first.
        headers = [("X-Forwarded-For", chain), ("X-Forwarded-For", "10.1.9.9")]
        proxy.cookies.clear()
        response = await proxy.post(
            "/auth/login", json={"username": nobody, **WRONG}, headers=headers
        )
        assert response.status_code == 401
    # 10.1.9.9 and 10.1.2.3 are trusted (10.1.0.0/16): the first untrusted hop is the client.
    assert len(await redis_keys("faros:limits*login:ip_198.51.100.20/*")) == 1
    assert await redis_keys("faros:limits*login:ip_198.51.100.77/*") == []


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    first: Litestar, kit: Any, redis_keys: RedisKeys
) -> None:
    nobody = kit.unique("nobody")  # the name's own budget is not the subject here
    stranger = "10.60.0.1"
    async with kit.new_client(first, client_ip=stranger) as client:
        for number in range(5):
            claimed = {"X-Forwarded-For": f"192.0.2.{number + 1}"}
            assert (await _login(client, nobody, **claimed)).status_code == 401
        # A sixth made-up address buys nothing: the budget is the peer's.
        _assert_login_limited(await _login(client, nobody, **{"X-Forwarded-For": "192.0.2.99"}))
    assert len(await redis_keys(f"faros:limits*login:ip_{stranger}/*")) == 1
    assert await redis_keys("faros:limits*login:ip_192.0.2.*") == []


async def test_a_malformed_hop_ends_the_walk_at_the_proxy(
    first: Litestar, kit: Any, redis_keys: RedisKeys
) -> None:
    nobody = kit.unique("nobody")  # the name's own budget is not the subject here
    proxy_address = "10.1.200.200"  # inside the trusted network
    async with kit.new_client(first, client_ip=proxy_address) as proxy:
        headers = {"X-Forwarded-For": "198.51.100.5, not-an-address"}
        assert (await _login(proxy, nobody, **headers)).status_code == 401
    assert len(await redis_keys(f"faros:limits*login:ip_{proxy_address}/*")) == 1
    assert await redis_keys("faros:limits*login:ip_198.51.100.5/*") == []


# --------------------------------------------------------------------------- (d) limits off


async def test_rate_limits_off_never_answer_429_nor_count(
    database_url: str,
    redis_server: ThrowAwayRedis,
    kit: Any,
    tmp_path: Path,
    redis_keys: RedisKeys,
) -> None:
    address = "10.70.0.1"
    limits_off = _app(database_url, redis_server, kit, tmp_path, rate_limits=False)
    async with limits_off as app, kit.new_client(app, client_ip=address) as client:
        api = kit.Api(client)
        owner = await api.user()
        statuses = [(await _login(client, owner.username)).status_code for _ in range(8)]
        assert statuses == [401] * 8
        for number in range(3):
            reset = await client.post(
                "/auth/password-reset/request", json={"email": f"x{number}@example.com"}
            )
            assert reset.status_code == 200
        for _ in range(12):  # limited to 5 a minute when limits are on
            verify = await client.post("/notifications/verify", json={"token": "nope"})
            assert verify.status_code == 400
        # Redis is in use (the stats cache), only the counters are off.
        assert (await api.get(owner, "/tasks/stats")).status_code == 200
    assert await redis_keys(f"stats:user_{owner.id}") == [f"stats:user_{owner.id}"]
    assert await redis_keys(f"faros:limits*{address}*") == []


# --------------------------------------------------------------------------- (e) 429 headers


async def test_429_headers_follow_the_redis_window(
    first: Litestar, kit: Any, redis_server: ThrowAwayRedis, redis_keys: RedisKeys
) -> None:
    address = "10.80.0.1"
    async with kit.new_client(first, client_ip=address) as client:
        first_reset = await client.post(
            "/auth/password-reset/request", json={"email": "a@example.com"}
        )
        assert first_reset.status_code == 200
        assert "ratelimit" not in first_reset.headers  # only refusals carry the headers
        refused = await client.post("/auth/password-reset/request", json={"email": "b@example.com"})
    assert refused.status_code == 429
    assert refused.json() == {"error": "Rate limit exceeded: 1 per 1 minute"}
    retry_after = int(refused.headers["retry-after"])
    assert refused.headers["ratelimit-policy"] == '"password-reset-request";q=1;w=60'
    assert refused.headers["ratelimit"] == f'"password-reset-request";r=0;t={retry_after}'
    # Retry-After is the window's remaining life in Redis (rounded up, so at most 1 s more).
    [key] = await redis_keys(f"faros:limits*password-reset-request:ip_{address}/*")
    raw = Redis.from_url(redis_server.url, socket_timeout=2)
    try:
        ttl = await raw.ttl(key)
    finally:
        await raw.aclose()
    assert 0 <= retry_after - ttl <= 1, (retry_after, ttl)

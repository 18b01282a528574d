"""Several server processes, as `faros serve` runs them: with Redis they share rate-limit
counters and one stats cache; without it, FAROS_WORKERS > 1 still serves fresh statistics.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest
from redis import Redis
from system_servers import FarosServer, StartServer

pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.slow]

PASSWORD = "correct-horse-1"


def _register_and_login(client: httpx.Client) -> tuple[int, dict[str, str]]:
    username = f"sys_{uuid.uuid4().hex[:12]}"
    created = client.post(
        "/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    assert created.status_code == 201, created.text
    login = client.post("/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    client.cookies.clear()
    return int(created.json()["id"]), {"Authorization": f"Bearer {login.json()['access_token']}"}


def _total(client: httpx.Client, auth: dict[str, str]) -> int:
    response = client.get("/tasks/stats", headers=auth)
    assert response.status_code == 200, response.text
    total: int = response.json()["total"]
    return total


def _create_task(client: httpx.Client, auth: dict[str, str]) -> None:
    response = client.post("/tasks", json={"title": "t"}, headers=auth)
    assert response.status_code == 201, response.text


@contextmanager
def _clients(*urls: str) -> Iterator[list[httpx.Client]]:
    with ExitStack() as stack:
        yield [stack.enter_context(httpx.Client(base_url=url, timeout=10)) for url in urls]


@pytest.mark.redis
def test_two_servers_on_one_redis_share_limits_and_the_stats_cache(
    start_server: StartServer, system_redis_url: str
) -> None:
    first = start_server(FAROS_REDIS_URL=system_redis_url)
    second = start_server(FAROS_REDIS_URL=system_redis_url)
    first.wait_until_healthy()
    second.wait_until_healthy()
    with _clients(first.url, second.url) as (a, b), Redis.from_url(system_redis_url) as raw:
        for client in (a, b):
            assert client.get("/health").json()["redis"] == "connected"
        user_id, auth = _register_and_login(a)  # the address's first login, counted on A
        # Four more on A, then B refuses the sixth of the minute: one counter, in Redis.
        wrong = {"username": "nobody_at_all", "password": "wrong-password"}
        for _ in range(4):
            assert a.post("/auth/login", json=wrong).status_code == 401
        refused = b.post("/auth/login", json=wrong)
        assert refused.status_code == 429
        assert refused.json() == {"error": "Rate limit exceeded: 5 per 1 minute"}
        retry_after = refused.headers["retry-after"]
        assert 1 <= int(retry_after) <= 60
        assert refused.headers["ratelimit-policy"] == '"login";q=5;w=60'
        assert refused.headers["ratelimit"] == f'"login";r=0;t={retry_after}'

        # One stats cache: A's entry is in Redis; a mutation served by B removes it.
        _create_task(a, auth)
        assert _total(a, auth) == 1
        assert raw.get(f"stats:user_{user_id}") is not None
        _create_task(b, auth)
        assert raw.get(f"stats:user_{user_id}") is None
        assert _total(a, auth) == 2
        assert _total(b, auth) == 2


def test_several_workers_without_redis_serve_fresh_stats(start_server: StartServer) -> None:
    server = start_server(workers=2)
    server.wait_until_healthy()
    # Each worker says once why it does not cache statistics (both must be up for this test).
    _wait_for_log(server, "the statistics cache is off", count=2)
    # Eight keep-alive connections, each pinned to whichever worker accepted it: both workers
    # serve some of them (a per-worker cache would then answer stale numbers below).
    with _clients(*[server.url] * 8) as clients:
        assert clients[0].get("/health").json()["redis"] == "disabled"
        user_id, auth = _register_and_login(clients[0])
        for round_number in range(1, 6):
            for client in clients:
                assert _total(client, auth) == round_number - 1, (round_number, user_id)
            _create_task(clients[round_number % len(clients)], auth)
        assert {_total(client, auth) for client in clients} == {5}


def _wait_for_log(server: FarosServer, fragment: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while server.output().count(fragment) < count:
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.1)  # poll interval

"""Rate limits (§1.10 with D18), on an app of their own with limits on and in-memory counters.

Each test speaks from its own client address, so the per-IP budgets never meet.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

pytestmark = pytest.mark.postgres

_addresses = itertools.count(10)


@pytest.fixture(scope="module")
async def limited_app(
    database_url: str, kit: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Litestar]:
    folder = tmp_path_factory.mktemp("faros-http-limits")
    settings = kit.make_settings(folder, rate_limits=True, redis_url=None)
    application = kit.build_app(settings, database_url)
    async with kit.running(application):
        yield application


@pytest.fixture
async def limited(limited_app: Litestar, kit: Any) -> AsyncIterator[httpx.AsyncClient]:
    number = next(_addresses)
    address = f"10.20.{number // 250}.{number % 250 + 1}"
    async with kit.new_client(limited_app, client_ip=address) as http:
        yield http


def assert_limited(response: httpx.Response, text: str, quota: int, window: int) -> None:
    assert response.status_code == 429, response.text
    assert response.json() == {"error": f"Rate limit exceeded: {text}"}
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= window
    policy = response.headers["ratelimit-policy"]
    assert f"q={quota}" in policy
    assert f"w={window}" in policy
    assert response.headers["ratelimit"]
    assert "r=0" in response.headers["ratelimit"]


async def test_login_sixth_attempt_in_a_minute(limited: httpx.AsyncClient, kit: Any) -> None:
    api = kit.Api(limited)
    created = await api.register()
    # Requests refused by validation do not count.
    for _ in range(3):
        invalid = await limited.post("/auth/login", json={"username": created["username"]})
        assert invalid.status_code == 422
    # Failed logins count like successful ones.
    for attempt in range(5):
        password = "correct-horse-1" if attempt % 2 else "wrong-password"
        response = await limited.post(
            "/auth/login", json={"username": created["username"], "password": password}
        )
        assert response.status_code in (200, 401)
        limited.cookies.clear()
    sixth = await limited.post(
        "/auth/login", json={"username": created["username"], "password": "correct-horse-1"}
    )
    assert_limited(sixth, "5 per 1 minute", 5, 60)
    assert "set-cookie" not in sixth.headers


async def test_limits_are_per_client_address(
    limited: httpx.AsyncClient, limited_app: Litestar, kit: Any
) -> None:
    payload = {"username": "nobody_at_all", "password": "whatever1"}
    for _ in range(5):
        assert (await limited.post("/auth/login", json=payload)).status_code == 401
    assert (await limited.post("/auth/login", json=payload)).status_code == 429
    async with kit.new_client(limited_app, client_ip="10.99.99.99") as elsewhere:
        assert (await elsewhere.post("/auth/login", json=payload)).status_code == 401


async def test_register_eleventh_in_an_hour(limited: httpx.AsyncClient, kit: Any) -> None:
    for _ in range(3):
        short = await limited.post(
            "/auth/register", json={"username": "ab", "email": "x@example.com", "password": "p"}
        )
        assert short.status_code == 422
    for _ in range(10):
        name = kit.unique("rl")
        response = await limited.post(
            "/auth/register",
            json={"username": name, "email": f"{name}@example.com", "password": "password1"},
        )
        assert response.status_code == 201
    name = kit.unique("rl")
    eleventh = await limited.post(
        "/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": "password1"},
    )
    assert_limited(eleventh, "10 per 1 hour", 10, 3600)


async def test_password_reset_request_once_a_minute(limited: httpx.AsyncClient) -> None:
    first = await limited.post("/auth/password-reset/request", json={"email": "a@example.com"})
    assert first.status_code == 200
    second = await limited.post("/auth/password-reset/request", json={"email": "b@example.com"})
    assert_limited(second, "1 per 1 minute", 1, 60)


async def test_create_task_hundred_an_hour_per_user(limited: httpx.AsyncClient, kit: Any) -> None:
    api = kit.Api(limited)
    account = await api.user()
    other = await api.user()
    # Unauthenticated and invalid requests do not consume the budget.
    for _ in range(3):
        assert (await limited.post("/tasks", json={"title": "x"})).status_code == 401
        invalid = await limited.post("/tasks", json={"title": ""}, headers=account.auth)
        assert invalid.status_code == 422
    for index in range(100):
        response = await limited.post("/tasks", json={"title": f"t{index}"}, headers=account.auth)
        assert response.status_code == 201, index
    refused = await limited.post("/tasks", json={"title": "one too many"}, headers=account.auth)
    assert_limited(refused, "100 per 1 hour", 100, 3600)
    # Another user from the same address has a budget of his own.
    assert (
        await limited.post("/tasks", json={"title": "x"}, headers=other.auth)
    ).status_code == 201
    # Unlimited routes stay open.
    assert (await limited.get("/tasks", headers=account.auth)).status_code == 200


async def test_uploads_twenty_an_hour_per_user_across_tasks(
    limited: httpx.AsyncClient, kit: Any
) -> None:
    api = kit.Api(limited)
    account = await api.user()
    tasks = [await api.task(account) for _ in range(3)]
    for index in range(20):
        task = tasks[index % 2]
        response = await limited.post(
            f"/tasks/{task['id']}/files",
            files={"file": (f"f{index}.txt", b"x", "text/plain")},
            headers=account.auth,
        )
        assert response.status_code == 201, response.text
    # D18: the cap is per user, so a third task does not help.
    refused = await limited.post(
        f"/tasks/{tasks[2]['id']}/files",
        files={"file": ("late.txt", b"x", "text/plain")},
        headers=account.auth,
    )
    assert_limited(refused, "20 per 1 hour", 20, 3600)


@pytest.mark.parametrize(
    ("path", "body", "needs_user"),
    [
        ("/notifications/send-verification", None, True),
        ("/notifications/verify", {"token": "not-a-real-token"}, False),
        ("/auth/password-reset/verify", {"token": "nope", "new_password": "long-enough-1"}, False),
    ],
)
async def test_d18_modest_limits(
    limited: httpx.AsyncClient, kit: Any, path: str, body: Any, needs_user: bool
) -> None:
    headers = {}
    if needs_user:
        headers = (await kit.Api(limited).user()).auth
    statuses = []
    for _ in range(12):
        response = await limited.post(path, json=body, headers=headers)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.json()["error"].startswith("Rate limit exceeded: ")
            assert response.headers["retry-after"]
            assert response.headers["ratelimit-policy"]
            assert response.headers["ratelimit"]
            break
    assert statuses[-1] == 429, statuses
    assert 2 <= len(statuses) <= 11
    assert set(statuses[:-1]) <= {200, 400}


async def test_get_verify_link_is_limited_too(limited: httpx.AsyncClient) -> None:
    statuses = []
    for _ in range(12):
        response = await limited.get("/notifications/verify", params={"token": "nope"})
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses[-1] == 429, statuses

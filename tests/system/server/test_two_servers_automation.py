"""Issue 17 across two real `faros serve` processes on one PostgreSQL database.

A personal access token revoked through one process is refused by the other within a second
(each keeps its own authentication cache, emptied by PostgreSQL's NOTIFY); an Idempotency-Key
sent to both processes at once creates one task; an ETag read from one process guards a write
through the other.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from serve_process import FarosServer, StartServer

pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.slow]

WITHIN_SECONDS = 1.0  # the bound for a revocation to reach the other process
PASSWORD = "correct-horse-1"


@pytest.fixture(scope="module")
def servers(start_server: StartServer) -> tuple[FarosServer, FarosServer]:
    # Both on the module's database (start_server gives its servers one of their own).
    return start_server(), start_server()


@pytest.fixture
def clients(
    servers: tuple[FarosServer, FarosServer],
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    one, two = servers
    with (
        httpx.Client(base_url=one.url, timeout=10) as a,
        httpx.Client(base_url=two.url, timeout=10) as b,
    ):
        yield a, b


def _login(client: httpx.Client) -> dict[str, str]:
    name = f"two_{secrets.token_hex(4)}"
    registered = client.post(
        "/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.text
    login = client.post("/auth/login", json={"username": name, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def test_a_token_revoked_in_one_process_is_refused_by_the_other_within_a_second(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    one, two = clients
    login = _login(one)
    made = one.post(
        "/tokens",
        json={"name": "script", "scopes": ["tasks:read"], "expires_in_days": 1},
        headers=login,
    )
    assert made.status_code == 201, made.text
    token = {"Authorization": f"Bearer {made.json()['token']}"}
    # The other process has answered from it (and so holds it in its cache).
    for _ in range(3):
        assert two.get("/tasks", headers=token).status_code == 200

    revoked = one.delete(f"/tokens/{made.json()['id']}", headers=login)
    assert revoked.status_code == 204, revoked.text
    started = time.monotonic()
    while (answer := two.get("/tasks", headers=token)).status_code == 200:
        assert time.monotonic() - started < WITHIN_SECONDS, "still accepted after a second"
        time.sleep(0.02)  # poll interval while waiting for the other process's NOTIFY
    assert answer.status_code == 401
    assert answer.json() == {"detail": "Invalid or expired token"}


def test_one_idempotency_key_sent_to_both_processes_at_once_creates_one_task(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    one, two = clients
    login = _login(one)
    key = f'"{secrets.token_hex(8)}"'
    body = {"title": "once, whichever process answers"}

    def create(client: httpx.Client) -> httpx.Response:
        return client.post("/tasks", json=body, headers={**login, "Idempotency-Key": key})

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(create, [one, two, one, two]))
    statuses = sorted(answer.status_code for answer in answers)
    # One creates; the others replay its answer or, while it still runs, are told to retry.
    assert statuses.count(201) >= 1, [a.text for a in answers]
    assert set(statuses) <= {201, 409}, [a.text for a in answers]
    created = [a for a in answers if a.status_code == 201]
    assert {a.json()["id"] for a in created} == {created[0].json()["id"]}
    # A retry after the first has finished replays it, through either process.
    for client in (one, two):
        replay = create(client)
        assert replay.status_code == 201
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.json() == created[0].json()
    listed: list[dict[str, Any]] = one.get("/tasks", headers=login).json()["tasks"]
    assert [task["title"] for task in listed] == [body["title"]]


def test_an_etag_from_one_process_guards_a_write_through_the_other(
    clients: tuple[httpx.Client, httpx.Client],
) -> None:
    one, two = clients
    login = _login(one)
    task = one.post("/tasks", json={"title": "v1"}, headers=login)
    assert task.status_code == 201
    path = f"/tasks/{task.json()['id']}"
    tag = one.get(path, headers=login).headers["etag"]

    first = two.patch(path, json={"title": "v2"}, headers={**login, "If-Match": tag})
    assert first.status_code == 200, first.text
    stale = one.patch(path, json={"title": "v3"}, headers={**login, "If-Match": tag})
    assert stale.status_code == 412
    assert stale.json()["task"]["title"] == "v2"
    assert stale.headers["etag"] == first.headers["etag"]

"""PostgreSQL restarted under load: requests fail fast with 503, then the pool recovers alone.

A real `faros serve` (uvicorn) runs on a PostgreSQL of this module's own, which is stopped —
cleanly (`fast`) or as in a crash (`immediate`) — and started again on the same port while
clients keep sending reads and writes. Asserted, for every request:

- no 500 and no hang: each answer arrives within `FAIL_FAST_BOUND` seconds;
- while the server is down: `503 {"detail": "Service temporarily unavailable"}` with
  `Retry-After`, and `/health` answers `503 {"status": "unhealthy", ...}`;
- after the restart the app recovers by itself within `RECOVERY_BOUND` seconds, and from the
  first success on every request succeeds (no dead pooled connection is handed out again);
- every write acknowledged with 201, before or after the outage, is in the database;
- a restart during a quiet moment costs no request at all: the dead pooled connections are
  replaced at checkout, before a request could fail on them.

Measurements (outage latency, time to recovery) are printed: run with `-s` to see them.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import statistics
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fault_kit import FarosProcess, RestartablePostgres, faros_environment, free_port
from sqlalchemy import text

from faros.adapters.postgres.engine import create_engine
from faros.adapters.postgres.migrate import upgrade

pytestmark = [pytest.mark.postgres, pytest.mark.system, pytest.mark.slow]

FAIL_FAST_BOUND = 5.0  # seconds: the longest any single answer may take, outage or not
RECOVERY_BOUND = 5.0  # seconds from PostgreSQL accepting connections to the first success
OUTAGE_SECONDS = 1.0  # at least; the clients keep sending meanwhile
CLIENTS = 6
PASSWORD = "correct-horse-1"
UNAVAILABLE = {"detail": "Service temporarily unavailable"}
UNHEALTHY = {"status": "unhealthy", "database": "disconnected", "redis": "disabled"}


@dataclass(frozen=True)
class Answer:
    kind: str
    sent: float
    answered: float
    status: int
    body: Any
    retry_after: str | None

    @property
    def latency(self) -> float:
        return self.answered - self.sent

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class Stack:
    postgres: RestartablePostgres
    server: FarosProcess


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    postgres = RestartablePostgres()
    server: FarosProcess | None = None
    try:
        upgrade(postgres.url)
        environment = faros_environment(
            postgres.url, tmp_path, FAROS_PORT=str(free_port()), FAROS_OUTBOX_WORKER="on"
        )
        server = FarosProcess("serve", environment, tmp_path)
        server.wait_until_answering()
        yield Stack(postgres, server)
    finally:
        if server is not None:
            server.stop()
        postgres.destroy()


class Traffic:
    """Clients sending a mix of reads and writes back to back; every answer is recorded.

    A transport error or a client timeout is recorded as status 0: the app hung or died.
    """

    def __init__(self, client: httpx.AsyncClient, token: str, task_id: int) -> None:
        self._client = client
        self._auth = {"Authorization": f"Bearer {token}"}
        self._task_id = task_id
        self._stop = asyncio.Event()
        self.answers: list[Answer] = []
        self.created_titles: list[str] = []

    def _requests(self) -> Iterator[tuple[str, str, str, dict[str, Any] | None]]:
        priorities = itertools.cycle(["low", "medium", "high"])
        while True:
            yield "list", "GET", "/tasks?limit=5", None
            yield "create", "POST", "/tasks", {"title": "t " + secrets.token_hex(6)}
            yield "health", "GET", "/health", None
            yield "patch", "PATCH", f"/tasks/{self._task_id}", {"priority": next(priorities)}
            yield "read", "GET", f"/tasks/{self._task_id}", None

    async def _send(self, kind: str, method: str, path: str, body: Any) -> None:
        sent = time.monotonic()
        try:
            response = await self._client.request(method, path, json=body, headers=self._auth)
        except httpx.TransportError as error:
            self.answers.append(Answer(kind, sent, time.monotonic(), 0, repr(error), None))
            return
        try:
            content: Any = response.json()
        except ValueError:  # not JSON: kept as text, and no assertion will accept it
            content = response.text
        answer = Answer(
            kind,
            sent,
            time.monotonic(),
            response.status_code,
            content,
            response.headers.get("retry-after"),
        )
        self.answers.append(answer)
        if kind == "create" and answer.status == 201:
            self.created_titles.append(body["title"])

    async def _client_loop(self, offset: int) -> None:
        requests = self._requests()
        for _ in range(offset):  # clients start at different points of the mix
            next(requests)
        while not self._stop.is_set():
            await self._send(*next(requests))

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        loops = [asyncio.create_task(self._client_loop(n)) for n in range(CLIENTS)]
        try:
            yield
        finally:
            self._stop.set()
            await asyncio.gather(*loops)

    def since(self, moment: float, predicate: Callable[[Answer], bool] = bool) -> list[Answer]:
        return [a for a in self.answers if a.sent >= moment and predicate(a)]

    async def wait_for(
        self, count: int, since: float, predicate: Callable[[Answer], bool] = bool
    ) -> None:
        deadline = time.monotonic() + 30
        while len(self.since(since, predicate)) < count:
            assert time.monotonic() < deadline, f"fewer than {count} answers in 30 s"
            await asyncio.sleep(0.02)  # poll interval


async def _user_with_task(client: httpx.AsyncClient) -> tuple[str, int]:
    username = "pg_" + secrets.token_hex(6)
    registered = await client.post(
        "/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.text
    login = await client.post("/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    token: str = login.json()["access_token"]
    client.cookies.clear()
    created = await client.post(
        "/tasks", json={"title": "target"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert created.status_code == 201, created.text
    task_id: int = created.json()["id"]
    return token, task_id


def _expected_outage_answer(answer: Answer) -> bool:
    if answer.kind == "health":
        return answer.status == 503 and answer.body == UNHEALTHY
    return answer.status == 503 and answer.body == UNAVAILABLE and answer.retry_after == "5"


async def _restart_under_load(stack: Stack, mode: str) -> None:
    timeout = httpx.Timeout(FAIL_FAST_BOUND * 2)
    async with httpx.AsyncClient(base_url=stack.server.url, timeout=timeout) as client:
        token, task_id = await _user_with_task(client)
        traffic = Traffic(client, token, task_id)
        async with traffic.running():
            start = time.monotonic()
            await traffic.wait_for(CLIENTS * 5, start, lambda a: a.ok)  # a warm pool
            stop_began = time.monotonic()
            await asyncio.to_thread(stack.postgres.stop, mode)
            stopped = time.monotonic()
            # Down for a while (a restart takes seconds), with plenty of requests meeting it.
            await traffic.wait_for(CLIENTS * 5, stopped)
            await asyncio.sleep(max(0.0, stopped + OUTAGE_SECONDS - time.monotonic()))
            start_began = time.monotonic()
            await asyncio.to_thread(stack.postgres.start)
            accepting = time.monotonic()
            await traffic.wait_for(1, start_began, lambda a: a.ok)
            recovered = min(a.answered for a in traffic.since(start_began, lambda a: a.ok))
            await traffic.wait_for(CLIENTS * 5, recovered)  # and the app stays recovered

    answers = traffic.answers
    # Nothing hangs and nothing fails with anything but a clean 503, at any moment.
    assert not [a for a in answers if a.status == 0 or (a.status >= 500 and a.status != 503)]
    assert max(a.latency for a in answers) < FAIL_FAST_BOUND
    assert all(a.ok for a in answers if a.answered < stop_began)
    # While the server is down, every request answers the outage 503 (health: "unhealthy").
    down = [a for a in answers if a.sent >= stopped and a.answered < start_began]
    assert len(down) >= CLIENTS * 5
    assert all(_expected_outage_answer(a) for a in down), {(a.status, str(a.body)) for a in down}
    assert {a.kind for a in down} == {"list", "create", "health", "patch", "read"}
    # Around the stop and the start, an answer is either a success or that same 503.
    assert all(a.ok or _expected_outage_answer(a) for a in answers)
    # Recovery: by itself, quickly, and for good.
    recovery = recovered - accepting
    assert recovery < RECOVERY_BOUND
    after = [a for a in answers if a.sent >= recovered]
    assert after
    assert all(a.ok for a in after)
    # Every acknowledged write survived the restart, even a crash-like one.
    engine = create_engine(stack.postgres.url, pool_size=1)
    try:
        async with engine.connect() as connection:
            stored = set(
                await connection.scalars(
                    text("SELECT title FROM faros.tasks WHERE title = ANY(:titles)"),
                    {"titles": traffic.created_titles},
                )
            )
    finally:
        await engine.dispose()
    assert stored == set(traffic.created_titles)

    outage_latencies = [a.latency for a in down]
    print(
        f"\n[postgres restart, {mode}] {len(answers)} requests;"
        f" outage {start_began - stopped:.2f} s:"
        f" {len(down)} answered 503, latency median {statistics.median(outage_latencies):.3f} s,"
        f" max {max(outage_latencies):.3f} s; stop took {stopped - stop_began:.2f} s, start"
        f" {accepting - start_began:.2f} s; first success {recovery:.3f} s after PostgreSQL"
        f" accepted connections ({recovered - start_began:.2f} s after the start began);"
        f" {len(after)} requests after it, all successful"
    )


async def _restart_while_idle(stack: Stack) -> None:
    """Pooled connections that died with the server are replaced unseen, before use.

    After a restart during a quiet moment, the pool holds only dead connections; the first
    requests afterwards must not be the ones to find out (no 503 once the server is back).
    """
    async with httpx.AsyncClient(base_url=stack.server.url, timeout=FAIL_FAST_BOUND) as client:
        token, task_id = await _user_with_task(client)
        auth = {"Authorization": f"Bearer {token}"}

        async def burst() -> list[int]:
            answers = await asyncio.gather(
                *(client.get(f"/tasks/{task_id}", headers=auth) for _ in range(CLIENTS))
            )
            return [answer.status_code for answer in answers]

        assert await burst() == [200] * CLIENTS  # several pooled connections, now idle
        await asyncio.to_thread(stack.postgres.stop, "fast")
        await asyncio.to_thread(stack.postgres.start)
        assert await burst() == [200] * CLIENTS


async def test_postgres_restarts(stack: Stack) -> None:
    """One server and one cluster for every scenario: starting them is the costly part."""
    await _restart_while_idle(stack)
    await _restart_under_load(stack, "fast")
    await _restart_under_load(stack, "immediate")
    assert stack.server.process.poll() is None  # the server rode out every outage

"""A server killed (SIGKILL) in the middle of writes leaves whole rows or none, and loses no e-mail.

A real `faros serve` (outbox worker on, e-mails written as files) on a scratch database takes
concurrent task creations (with description and tags) and shares (each queueing an e-mail to
a verified recipient) until it is killed outright. Then, in the database:

- every task is complete — each field exactly as sent — or absent; every 201 is present;
- activity entries exist exactly for the tasks and shares that exist (same transaction);
- every share that exists has exactly one queued e-mail, and every 201 share exists.

Then `faros worker` starts on the same database and folder, and every queued e-mail ends up
delivered (an `.eml` file for each outbox row). The messages the killed worker had claimed
would come back when their lease ends (minutes); the test makes them due at once instead.
Delivery is at least once: a message the killed worker had sent but not yet marked done is
sent again; such duplicates are counted and printed (`-s`), not failed.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
import re
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from fault_kit import FarosProcess, faros_environment, free_port
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres.engine import create_engine

pytestmark = [pytest.mark.postgres, pytest.mark.system, pytest.mark.slow]

PASSWORD = "correct-horse-1"
RECIPIENTS = 2
CLIENTS = 8
KILL_AFTER_TASKS = 20  # acknowledged creations before the kill; writes keep flowing meanwhile
DELIVERY_BOUND = 30.0  # seconds for the restarted worker to empty the outbox
VERIFY_TOKEN = re.compile(r"/verify\?token=([A-Za-z0-9_\-%.~]+)")


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    email: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Load:
    """What the clients sent and what the server acknowledged before it died."""

    sent_tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # by title
    created: dict[str, int] = field(default_factory=dict)  # title -> id, answered 201
    shared: set[tuple[int, int]] = field(default_factory=set)  # (task id, user id), 201
    cut_off: int = 0  # requests that got no answer: in flight when the server died


@pytest.fixture
async def scratch_database(database_factory: Any) -> AsyncIterator[tuple[str, AsyncEngine]]:
    url: str = await database_factory.create()
    engine = create_engine(url, pool_size=2)
    yield url, engine
    await engine.dispose()


async def _person(client: httpx.AsyncClient, engine: AsyncEngine, prefix: str) -> Person:
    username = f"{prefix}_{secrets.token_hex(5)}"
    address = f"{username}@example.com"
    answer = await client.post(
        "/auth/register", json={"username": username, "email": address, "password": PASSWORD}
    )
    assert answer.status_code == 201, answer.text
    user_id: int = answer.json()["id"]
    answer = await client.post("/auth/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    client.cookies.clear()
    person = Person(user_id, username, address, answer.json()["access_token"])
    # Verified, so that shares queue an e-mail to them (only verified addresses get mail).
    answer = await client.post("/notifications/send-verification", headers=person.auth)
    assert answer.status_code == 200, answer.text
    async with engine.connect() as connection:
        body = await connection.scalar(
            text(
                "SELECT payload->>'text' FROM faros.outbox WHERE payload->>'to' = :to "
                "ORDER BY id DESC LIMIT 1"
            ),
            {"to": address},
        )
    found = VERIFY_TOKEN.search(str(body))
    assert found is not None, body
    answer = await client.post("/notifications/verify", json={"token": unquote(found.group(1))})
    assert answer.status_code == 200, answer.text
    return person


async def _client_loop(
    client: httpx.AsyncClient,
    owner: Person,
    recipients: list[Person],
    load: Load,
    number: int,
    stop: asyncio.Event,
) -> None:
    """Create a task, share it with two recipients; again, until the server is gone."""
    for round_ in itertools.count():
        if stop.is_set():
            return
        title = f"kill {number}-{round_} {secrets.token_hex(4)}"
        body = {
            "title": title,
            "description": f"description of {title} " + "x" * 200,
            "priority": ("low", "medium", "high")[round_ % 3],
            "due_date": f"2031-0{1 + round_ % 9}-1{number % 10}",
            "tags": [f"client-{number}", f"round-{round_}", "kill"],
        }
        load.sent_tasks[title] = body
        try:
            answer = await client.post("/tasks", json=body, headers=owner.auth)
            if answer.status_code != 201:
                raise AssertionError(f"{answer.status_code}: {answer.text}")
            task_id: int = answer.json()["id"]
            load.created[title] = task_id
            for offset in (0, 1):
                target = recipients[(number + round_ + offset) % len(recipients)]
                answer = await client.post(
                    f"/tasks/{task_id}/share",
                    json={"shared_with_username": target.username, "permission": "edit"},
                    headers=owner.auth,
                )
                if answer.status_code != 201:
                    raise AssertionError(f"{answer.status_code}: {answer.text}")
                load.shared.add((task_id, target.id))
        except httpx.TransportError:
            load.cut_off += 1  # the server died under this request
            return


async def _run_until_killed(server: FarosProcess, owner: Person, recipients: list[Person]) -> Load:
    load = Load()
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:
        loops = [
            asyncio.create_task(_client_loop(client, owner, recipients, load, n, stop))
            for n in range(CLIENTS)
        ]
        deadline = time.monotonic() + 60
        while len(load.created) < KILL_AFTER_TASKS:
            assert time.monotonic() < deadline, "the server acknowledged too few writes"
            ended = [loop.exception() for loop in loops if loop.done()]
            assert not ended, ended
            await asyncio.sleep(0.01)  # poll interval
        await asyncio.to_thread(server.kill)
        stop.set()
        await asyncio.gather(*loops)
    return load


async def _rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list(await connection.execute(text(sql), params))


def _delivered(outbox_dir: Path) -> Counter[tuple[str, str]]:
    """(recipient, subject) of every e-mail file written."""
    found: Counter[tuple[str, str]] = Counter()
    for path in outbox_dir.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found[(str(message["To"]), str(message["Subject"]))] += 1
    return found


async def test_kill_mid_write_leaves_whole_rows_and_delivers_every_email(
    scratch_database: tuple[str, AsyncEngine], tmp_path: Path
) -> None:
    url, engine = scratch_database
    environment = faros_environment(
        url, tmp_path, FAROS_PORT=str(free_port()), FAROS_OUTBOX_WORKER="on"
    )
    server = FarosProcess("serve", environment, tmp_path)
    try:
        server.wait_until_answering()
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            owner = await _person(client, engine, "owner")
            recipients = [await _person(client, engine, "rcpt") for _ in range(RECIPIENTS)]
        load = await _run_until_killed(server, owner, recipients)
    finally:
        server.kill()
    assert load.cut_off >= 1  # some writes really were in flight when the process died

    # Tasks: whole or absent, and every acknowledged one present.
    tasks = await _rows(
        engine,
        "SELECT id, title, description, priority, due_date::text AS due_date, tags, completed "
        "FROM faros.tasks WHERE user_id = :owner",
        owner=owner.id,
    )
    for row in tasks:
        sent = load.sent_tasks[row.title]
        stored = {k: getattr(row, k) for k in ("description", "priority", "due_date", "tags")}
        assert stored == {k: sent[k] for k in stored}, row.title
        assert row.completed is False
    assert {row.title: row.id for row in tasks}.items() >= load.created.items()
    task_ids = {row.id for row in tasks}

    # Activity: written in the same transaction as what it records, so exactly matching.
    created_logged = await _rows(
        engine,
        "SELECT task_id FROM faros.activity_logs WHERE user_id = :owner "
        "AND action = 'created' AND resource_type = 'task'",
        owner=owner.id,
    )
    assert sorted(row.task_id for row in created_logged) == sorted(task_ids)
    shares = await _rows(
        engine,
        "SELECT s.task_id, s.shared_with_user_id AS user_id, t.title FROM faros.task_shares s "
        "JOIN faros.tasks t ON t.id = s.task_id WHERE t.user_id = :owner",
        owner=owner.id,
    )
    share_keys = Counter((row.task_id, row.user_id) for row in shares)
    assert set(share_keys) >= load.shared
    shared_logged = await _rows(
        engine,
        "SELECT task_id, (details->>'shared_with_user_id')::int AS user_id "
        "FROM faros.activity_logs WHERE user_id = :owner AND action = 'shared'",
        owner=owner.id,
    )
    assert Counter((row.task_id, row.user_id) for row in shared_logged) == share_keys

    # E-mails: one queued per share, in the share's transaction.
    address = {person.id: person.email for person in recipients}
    expected_mail = Counter((address[row.user_id], f"Task Shared: {row.title}") for row in shares)
    queued = await _rows(
        engine,
        "SELECT payload->>'to' AS to, payload->>'subject' AS subject FROM faros.outbox "
        "WHERE kind = 'send_email' AND payload->>'subject' LIKE 'Task Shared: kill %'",
    )
    assert Counter((row.to, row.subject) for row in queued) == expected_mail

    # A worker started afterwards delivers everything still queued: nothing is lost. Messages
    # the dead server's worker had claimed stay hidden until their lease ends (minutes): made
    # due now instead, as if that time had passed.
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE faros.outbox SET available_at = now() WHERE status = 'pending'")
        )
    worker = FarosProcess("worker", environment, tmp_path)
    try:
        deadline = time.monotonic() + DELIVERY_BOUND
        while await _rows(engine, "SELECT 1 FROM faros.outbox WHERE status <> 'done' LIMIT 1"):
            assert worker.process.poll() is None, worker.output()
            assert time.monotonic() < deadline, "the outbox was not emptied"
            await asyncio.sleep(0.1)  # poll interval
    finally:
        worker.stop()
    every_queued = await _rows(
        engine,
        "SELECT payload->>'to' AS to, payload->>'subject' AS subject FROM faros.outbox "
        "WHERE kind = 'send_email'",
    )
    delivered = _delivered(tmp_path / "outbox")
    missing = [
        (row.to, row.subject) for row in every_queued if delivered[(row.to, row.subject)] < 1
    ]
    assert missing == []
    wanted = Counter((row.to, row.subject) for row in every_queued)
    duplicates = {
        key: delivered[key] - count for key, count in wanted.items() if delivered[key] > count
    }
    print(
        f"\n[kill mid-write] {len(load.created)} tasks and {len(load.shared)} shares acknowledged,"
        f" {load.cut_off} requests cut off by the kill; {len(tasks)} tasks and {len(shares)}"
        f" shares stored; {len(every_queued)} e-mails queued, all delivered after the restart;"
        f" duplicates: {sum(duplicates.values())} {sorted(duplicates)}"
    )

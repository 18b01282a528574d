"""Webhook deliveries by real `faros worker` processes: killed mid-delivery, the event goes out
again after the restart (at least once, same `webhook-id`, signed); two workers send each once."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from outbox_kit import eventually, rows
from process_kit import faros_env, running
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks.webhooks import Webhook as Verifier

from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.domain import outbox
from faros.domain.users import NewUser
from faros.domain.webhooks import NewWebhook, event_body, new_event_id, new_secret

pytestmark = [pytest.mark.postgres, pytest.mark.system, pytest.mark.slow]

COUNT = 30


@dataclass
class HoldingReceiver:
    """Records each request; answers 200 only once `release` is set."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            head = await reader.readuntil(b"\r\n\r\n")
            headers = {}
            for line in head.decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append((headers, body))
            await self.release.wait()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        writer.close()


async def test_a_worker_killed_mid_delivery_delivers_after_restart(
    own_url: str, own_uow: PostgresUnitOfWorkFactory, own_engine: AsyncEngine, tmp_path: Path
) -> None:
    receiver = HoldingReceiver()
    server = await asyncio.start_server(receiver.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    now = datetime.now(UTC)
    secret = new_secret()
    event_id = new_event_id()
    async with own_uow() as uow:
        user = await uow.users.add(NewUser("hooked", "hooked@example.com", "x", now))
        hook = await uow.webhooks.add(
            NewWebhook(user.id, f"http://127.0.0.1:{port}/in", ["task.created"], None, secret, now)
        )
        body = event_body(event_id, "task.created", now, {"id": 1})
        await uow.outbox.add(outbox.webhook_delivery(hook.id, event_id, "task.created", body), now)
        await uow.commit()
    env = faros_env(own_url, tmp_path / "data", webhook_allow_private="on")
    try:
        with running("worker", env, tmp_path, "first") as first:
            await eventually(lambda: _is(len(receiver.requests) == 1), what="the first attempt")
            first.kill()
        [row] = await rows(own_engine)
        assert (row.status, row.attempts) == ("pending", 1)  # leased, no outcome recorded
        receiver.release.set()
        async with own_engine.begin() as connection:  # what waiting out the lease would do
            await connection.execute(text("UPDATE faros.outbox SET available_at = now()"))
        with running("worker", env, tmp_path, "second") as second:

            async def done() -> bool:
                return all(r.status == "done" for r in await rows(own_engine))

            await eventually(done, what="the delivery after the restart")
            assert second.stop() == 0, second.output()
    finally:
        server.close()
    assert len(receiver.requests) == 2
    verifier = Verifier(secret)
    for headers, sent in receiver.requests:
        assert headers["webhook-id"] == event_id
        assert verifier.verify(sent, headers)["data"] == {"id": 1}
    async with own_uow() as uow:
        [delivery] = await uow.webhooks.deliveries(hook.id, 10)
    assert (delivery.status, delivery.attempt, delivery.response_code) == ("succeeded", 2, 200)


async def _is(value: bool) -> bool:
    await asyncio.sleep(0.01)
    return value


async def test_two_workers_send_each_event_once(
    own_url: str, own_uow: PostgresUnitOfWorkFactory, own_engine: AsyncEngine, tmp_path: Path
) -> None:
    receiver = HoldingReceiver()
    receiver.release.set()
    server = await asyncio.start_server(receiver.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    now = datetime.now(UTC)
    secret = new_secret()
    ids = [new_event_id() for _ in range(COUNT)]
    env = faros_env(own_url, tmp_path / "data", webhook_allow_private="on")
    try:
        with running("worker", env, tmp_path, "a"), running("worker", env, tmp_path, "b"):
            async with own_uow() as uow:
                user = await uow.users.add(NewUser("twice", "twice@example.com", "x", now))
                url = f"http://127.0.0.1:{port}/in"
                hook = await uow.webhooks.add(
                    NewWebhook(user.id, url, ["task.created"], None, secret, now)
                )
                for event_id in ids:
                    body = event_body(event_id, "task.created", now, {"id": 1})
                    message = outbox.webhook_delivery(hook.id, event_id, "task.created", body)
                    await uow.outbox.add(message, now)
                await uow.commit()

            async def done() -> bool:
                found = await rows(own_engine)
                return len(found) == COUNT and all(r.status == "done" for r in found)

            await eventually(done, what="every event delivered")
    finally:
        server.close()
    sent = [headers["webhook-id"] for headers, _ in receiver.requests]
    assert sorted(sent) == sorted(ids)  # each once, none twice

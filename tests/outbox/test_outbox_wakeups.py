"""The background worker loop with LISTEN/NOTIFY on real PostgreSQL: a committed message wakes
it at once, a rolled-back one never exists, and losing every connection (as in a database
restart) stops neither the listener nor the worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from email_receivers import parse_mime
from outbox_kit import SENDER, email, eventually, queue, rows
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.email.outbox_dir import OutboxDirEmailSender
from faros.adapters.localfs.storage import LocalBlobStorage
from faros.adapters.postgres.engine import create_engine
from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.adapters.system_clock import SystemClock
from faros.domain import outbox
from faros.domain.services.notifications import NotificationService
from faros.domain.services.outbox_processor import OutboxProcessor
from faros.entrypoints.background import BackgroundJobs

pytestmark = pytest.mark.postgres

# Far longer than any wait below: only a wake-up can explain a prompt delivery.
NO_POLL = 3600.0


@dataclass
class Worker:
    jobs: BackgroundJobs
    mail_dir: Path

    def subjects(self) -> list[str]:
        return sorted(parse_mime(p.read_bytes()).subject for p in self.mail_dir.glob("*.eml"))


@pytest.fixture
async def worker(own_url: str, tmp_path: Path) -> AsyncIterator[Worker]:
    """A worker as `faros worker` runs it, on its own engine, polling (practically) never."""
    engine = create_engine(own_url, pool_size=2)
    uow = PostgresUnitOfWorkFactory(engine)
    clock = SystemClock()
    mail_dir = tmp_path / "mail"
    processor = OutboxProcessor(
        uow, clock, OutboxDirEmailSender(mail_dir, SENDER), LocalBlobStorage(tmp_path / "b")
    )
    jobs = BackgroundJobs(
        processor,
        NotificationService(uow, clock, "https://faros.example"),
        listen_url=own_url,
        poll_seconds=NO_POLL,
    )
    jobs.start()
    assert jobs.listener is not None
    await asyncio.wait_for(jobs.listener.connected.wait(), timeout=20)
    try:
        yield Worker(jobs, mail_dir)
    finally:
        await jobs.stop()
        await engine.dispose()


async def test_a_committed_message_wakes_the_worker(
    worker: Worker, own_uow: PostgresUnitOfWorkFactory, own_engine: AsyncEngine
) -> None:
    async with own_uow() as uow:  # rolled back: neither queued nor announced
        await uow.outbox.add(outbox.send_email(email(0)), datetime.now(UTC))
    await queue(own_uow, [email(1), email(2)], datetime.now(UTC), one_tx=True)
    await queue(own_uow, [email(3)], datetime.now(UTC), one_tx=False)

    async def delivered() -> bool:
        return worker.subjects() == ["m-1", "m-2", "m-3"]

    await eventually(delivered, what="the wake-up")
    assert [r.subject for r in await rows(own_engine)] == ["m-1", "m-2", "m-3"]


async def test_listener_and_worker_outlive_losing_every_connection(
    worker: Worker, own_url: str, own_uow: PostgresUnitOfWorkFactory, own_engine: AsyncEngine
) -> None:
    listener = worker.jobs.listener
    assert listener is not None
    await queue(own_uow, [email(1)], datetime.now(UTC), one_tx=True)
    await eventually(lambda: _holds(worker.subjects() == ["m-1"]), what="the first delivery")

    # What a database restart does to every session: the server ends them.
    async with own_engine.connect() as connection:
        await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await own_engine.dispose()  # (this test's own pooled connections were ended too)
    await eventually(lambda: _holds(listener.connections == 2), what="the listener to reconnect")

    await queue(own_uow, [email(2)], datetime.now(UTC), one_tx=True)
    await eventually(
        lambda: _holds(worker.subjects() == ["m-1", "m-2"]), what="delivery after the outage"
    )


async def _holds(value: bool) -> bool:
    return value

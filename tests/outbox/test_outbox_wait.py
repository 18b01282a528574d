"""How long a message waits in the outbox under normal operation: from `created_at` (queued,
in the transaction of the change) to `processed_at` (its delivery recorded), with the
outbox-dir sender and the background loop as the server runs it.

Load: 200 e-mails, each queued by a transaction of its own (as 200 requests would), arriving
at random intervals of 0-20 ms. Measured twice, polling only (`FAROS_OUTBOX_WORKER` in a server
today) and woken by LISTEN/NOTIFY (`faros worker`). Run it alone to read the figures:

    .venv/bin/pytest -q -s tests/outbox/test_outbox_wait.py
"""

from __future__ import annotations

import asyncio
import random
import statistics
from datetime import UTC, datetime
from pathlib import Path

import pytest
from outbox_kit import SENDER, all_done, email, eventually, queue, rows
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.email.outbox_dir import OutboxDirEmailSender
from faros.adapters.localfs.storage import LocalBlobStorage
from faros.adapters.postgres.engine import create_engine
from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.adapters.system_clock import SystemClock
from faros.domain.services.notifications import NotificationService
from faros.domain.services.outbox_processor import OutboxProcessor
from faros.entrypoints.background import OUTBOX_POLL_SECONDS, BackgroundJobs

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

COUNT = 200


async def measure(url: str, engine: AsyncEngine, folder: Path, *, listen: bool) -> list[float]:
    """Seconds each of COUNT messages waited."""
    worker_engine = create_engine(url, pool_size=2)
    uow = PostgresUnitOfWorkFactory(worker_engine)
    clock = SystemClock()
    processor = OutboxProcessor(
        uow, clock, OutboxDirEmailSender(folder / "mail", SENDER), LocalBlobStorage(folder / "b")
    )
    jobs = BackgroundJobs(
        processor,
        NotificationService(uow, clock, "https://faros.example"),
        listen_url=url if listen else None,
    )
    producer = PostgresUnitOfWorkFactory(engine)
    rng = random.Random(5)
    jobs.start()
    try:
        if jobs.listener is not None:
            await asyncio.wait_for(jobs.listener.connected.wait(), timeout=20)
        for n in range(COUNT):
            await queue(producer, [email(n)], datetime.now(UTC), one_tx=False)
            await asyncio.sleep(rng.uniform(0, 0.02))  # the load's shape, not a synchronisation
        await eventually(lambda: all_done(engine), within=60, what="every message delivered")
    finally:
        await jobs.stop()
        await worker_engine.dispose()
    done = await rows(engine)
    assert len(done) == COUNT
    assert len(list((folder / "mail").glob("*.eml"))) == COUNT
    return [(r.processed_at - r.created_at).total_seconds() for r in done if r.processed_at]


def summary(waits: list[float]) -> str:
    cuts = statistics.quantiles(waits, n=100)
    return (
        f"p50 {cuts[49] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms, "
        f"max {max(waits) * 1000:.0f} ms"
    )


async def test_how_long_a_message_waits_in_the_outbox(
    database_factory: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = {}
    for listen in (False, True):
        url: str = await database_factory.create()  # type: ignore[attr-defined]
        engine = create_engine(url, pool_size=2)
        try:
            folder = tmp_path / ("listen" if listen else "poll")
            figures[listen] = await measure(url, engine, folder, listen=listen)
        finally:
            await engine.dispose()
    with capsys.disabled():
        print(f"\noutbox wait, {COUNT} messages, outbox-dir sender:")
        print(f"  polling every {OUTBOX_POLL_SECONDS:g} s:  {summary(figures[False])}")
        print(f"  LISTEN/NOTIFY:            {summary(figures[True])}")
    # Polling waits half a period on average; a wake-up does not wait for the period at all.
    assert statistics.median(figures[True]) < statistics.median(figures[False])
    assert all(wait >= 0 for waits in figures.values() for wait in waits)

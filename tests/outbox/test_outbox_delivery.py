"""OutboxProcessor over real PostgreSQL and a real SMTP relay (aiosmtpd): retries with
exponential backoff, dead messages, hung providers, poison messages, leases, two workers."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from email_receivers import FolderInbox, parse_mime
from outbox_kit import SENDER, SmtpReceiver, email, queue, rows
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.email.outbox_dir import OutboxDirEmailSender
from faros.adapters.email.smtp import SmtpEmailSender
from faros.adapters.localfs.storage import LocalBlobStorage
from faros.adapters.memory.clock import ManualClock
from faros.adapters.postgres.engine import create_engine
from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.adapters.system_clock import SystemClock
from faros.domain.outbox import MAX_ATTEMPTS, NewOutboxMessage, retry_delay_seconds
from faros.domain.services.outbox_processor import LEASE_SECONDS, OutboxProcessor
from faros.ports.clock import Clock
from faros.ports.unit_of_work import UnitOfWorkFactory

pytestmark = [pytest.mark.postgres, pytest.mark.smtp]


def processor(
    uow: UnitOfWorkFactory, clock: Clock, port: int, tmp_path: Path, **options: float
) -> OutboxProcessor:
    sender = SmtpEmailSender("127.0.0.1", port, SENDER)
    return OutboxProcessor(uow, clock, sender, LocalBlobStorage(tmp_path / "blobs"), **options)  # type: ignore[arg-type]


async def test_a_provider_down_for_a_while_gets_every_message_through_once_it_is_back(
    own_uow: PostgresUnitOfWorkFactory, own_engine: AsyncEngine, tmp_path: Path
) -> None:
    clock = ManualClock()
    receiver = SmtpReceiver()  # its port is chosen, nothing listens there yet
    worker = processor(own_uow, clock, receiver.port, tmp_path)
    await queue(own_uow, [email(n) for n in range(5)], clock.now(), one_tx=True)

    for attempt in (1, 2, 3):
        assert await worker.run_once() == 5
        failed = clock.now()
        for row in await rows(own_engine):
            assert (row.status, row.attempts) == ("pending", attempt)
            # Exponential backoff: due again 2, 4, 8 seconds after the failure.
            assert row.available_at == failed + timedelta(seconds=2**attempt)
            assert row.last_error is not None
            assert row.last_error.startswith(
                f"EmailDeliveryError: SMTP delivery via 127.0.0.1:{receiver.port} failed: "
                "ConnectionRefusedError"
            )
        assert await worker.run_once() == 0  # not due before the backoff has passed
        clock.advance(2**attempt)

    with receiver:
        assert await worker.run_once() == 5
        assert receiver.subjects() == Counter({f"m-{n}": 1 for n in range(5)})
    assert [(r.status, r.attempts, r.processed_at) for r in await rows(own_engine)] == [
        ("done", 4, clock.now())
    ] * 5
    assert await worker.run_once() == 0


async def test_a_message_failing_max_attempts_times_is_dead_and_logged(
    own_uow: PostgresUnitOfWorkFactory,
    own_engine: AsyncEngine,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock()
    nobody = SmtpReceiver()  # never started
    worker = processor(own_uow, clock, nobody.port, tmp_path)
    await queue(own_uow, [email(1)], clock.now(), one_tx=True)
    caplog.set_level(logging.WARNING, logger="faros.outbox")

    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert await worker.run_once() == 1
        [row] = await rows(own_engine)
        assert row.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert row.status == "pending"
            assert row.available_at == clock.now() + timedelta(seconds=retry_delay_seconds(attempt))
            clock.advance(retry_delay_seconds(attempt))

    [row] = await rows(own_engine)
    assert (row.status, row.attempts, row.processed_at) == ("dead", MAX_ATTEMPTS, clock.now())
    assert row.last_error is not None
    assert "ConnectionRefusedError" in row.last_error
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        f"outbox message {row.id} (send_email) failed for good after {MAX_ATTEMPTS} attempts: "
        f"{row.last_error}"
    ]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == MAX_ATTEMPTS - 1
    clock.advance(timedelta(days=1))
    assert await worker.run_once() == 0  # dead stays dead


async def test_a_hung_provider_call_is_cut_off_and_holds_up_only_its_own_message(
    own_uow: PostgresUnitOfWorkFactory, own_engine: AsyncEngine, tmp_path: Path
) -> None:
    clock = ManualClock()
    with SmtpReceiver(hold=lambda to: any("slow" in address for address in to)) as receiver:
        receiver.hold_replies()
        worker = processor(own_uow, clock, receiver.port, tmp_path, timeout_seconds=5.0)
        messages = [email(0, "slow@example.com", tag="slow"), *(email(n) for n in range(4))]
        await queue(own_uow, messages, clock.now(), one_tx=True)

        assert await worker.run_once() == 5
        slow, *fast = await rows(own_engine)
        assert [(r.status, r.attempts) for r in fast] == [("done", 1)] * 4
        # Cut off by the processor (the SMTP client itself would wait 10 s for the answer).
        assert (slow.status, slow.attempts, slow.last_error) == (
            "pending", 1, "no answer within 5 seconds",
        )  # fmt: skip
        assert slow.available_at == clock.now() + timedelta(seconds=2)

        receiver.release()
        clock.advance(2)
        assert await worker.run_once() == 1
        [slow] = (await rows(own_engine))[:1]
        assert (slow.status, slow.attempts) == ("done", 2)
        # At least once: the relay had taken the first copy before the call was cut off.
        assert receiver.subjects() == Counter({"slow-0": 2, "m-0": 1, "m-1": 1, "m-2": 1, "m-3": 1})


async def test_a_message_that_cannot_be_read_is_dead_at_once(
    own_uow: PostgresUnitOfWorkFactory, own_engine: AsyncEngine, tmp_path: Path
) -> None:
    clock = ManualClock()
    with SmtpReceiver() as receiver:
        worker = processor(own_uow, clock, receiver.port, tmp_path)
        async with own_uow() as uow:
            broken = NewOutboxMessage("send_email", {"to": "x@example.com"})
            await uow.outbox.add(broken, clock.now())
            await uow.commit()
        async with own_engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO faros.outbox (kind, payload, status, attempts, available_at, "
                    "created_at) VALUES ('fax', '{}', 'pending', 0, :now, :now)"
                ),
                {"now": clock.now()},
            )
        await queue(own_uow, [email(1)], clock.now(), one_tx=True)

        assert await worker.run_once() == 3
        assert receiver.subjects() == Counter({"m-1": 1})
    missing, unknown, fine = await rows(own_engine)
    assert (missing.status, missing.attempts, missing.last_error) == (
        "dead", 1, "malformed message: KeyError: 'subject'",
    )  # fmt: skip
    assert (unknown.status, unknown.last_error) == ("dead", "malformed message: unknown kind 'fax'")
    assert fine.status == "done"


async def test_a_message_whose_attempts_never_report_back_dies_after_max_attempts(
    own_uow: PostgresUnitOfWorkFactory, own_engine: AsyncEngine, tmp_path: Path
) -> None:
    """A poison message that kills the worker during every delivery: each time, the lease was
    committed (the attempt counted) and no outcome was recorded."""
    clock = ManualClock()
    await queue(own_uow, [email(1)], clock.now(), one_tx=True)
    for _ in range(MAX_ATTEMPTS):
        async with own_uow() as uow:  # what run_once does first; then the worker dies
            [leased] = await uow.outbox.lease(
                clock.now(), clock.now() + timedelta(seconds=LEASE_SECONDS), 10
            )
            await uow.commit()
        clock.advance(LEASE_SECONDS)

    with SmtpReceiver() as receiver:
        assert await processor(own_uow, clock, receiver.port, tmp_path).run_once() == 1
        assert receiver.arrivals == []  # not tried a ninth time
    [row] = await rows(own_engine)
    assert (row.status, row.attempts) == ("dead", MAX_ATTEMPTS)
    assert row.last_error == (
        "no outcome was recorded for the last attempt: the worker stopped or lost the database "
        "during delivery"
    )
    assert leased.attempts == MAX_ATTEMPTS


async def test_a_leased_message_is_hidden_until_its_lease_ends_and_then_sent_again(
    own_uow: PostgresUnitOfWorkFactory, own_engine: AsyncEngine, tmp_path: Path
) -> None:
    clock = ManualClock()
    await queue(own_uow, [email(1), email(2)], clock.now(), one_tx=True)
    async with own_uow() as uow:  # a worker leases one message, then dies
        [dead_workers] = await uow.outbox.lease(
            clock.now(), clock.now() + timedelta(seconds=LEASE_SECONDS), 1
        )
        await uow.commit()
    with SmtpReceiver() as receiver:
        worker = processor(own_uow, clock, receiver.port, tmp_path)
        assert await worker.run_once() == 1
        assert receiver.subjects() == Counter({"m-2": 1})
        clock.advance(LEASE_SECONDS - 1)
        assert await worker.run_once() == 0
        clock.advance(1)
        assert await worker.run_once() == 1
        assert receiver.subjects() == Counter({"m-1": 1, "m-2": 1})
    first, second = await rows(own_engine)
    assert (first.id, first.status, first.attempts) == (dead_workers.id, "done", 2)
    assert (second.status, second.attempts) == ("done", 1)


async def test_two_workers_never_send_the_same_message(
    own_url: str, own_uow: PostgresUnitOfWorkFactory, own_engine: AsyncEngine, tmp_path: Path
) -> None:
    # The outbox folder as the receiver: the SMTP adapter costs ~80 ms of CPU a message here.
    count = 200
    await queue(own_uow, [email(n) for n in range(count)], SystemClock().now(), one_tx=True)
    engines = [create_engine(own_url, pool_size=2) for _ in range(2)]
    inbox = FolderInbox(tmp_path / "mail")
    try:
        workers = [
            OutboxProcessor(
                PostgresUnitOfWorkFactory(engine),
                SystemClock(),
                OutboxDirEmailSender(inbox.directory, SENDER),
                LocalBlobStorage(tmp_path / "blobs"),
            )
            for engine in engines
        ]

        async def drain(worker: OutboxProcessor) -> int:
            handled = 0
            while n := await worker.run_once():
                handled += n
            return handled

        shares = await asyncio.wait_for(asyncio.gather(*map(drain, workers)), timeout=120)
    finally:
        for engine in engines:
            await engine.dispose()
    delivered = [parse_mime(path.read_bytes()) for path in inbox.directory.glob("*.eml")]
    assert Counter(m.subject for m in delivered) == Counter({f"m-{n}": 1 for n in range(count)})
    assert sum(shares) == count
    assert min(shares) > 0, shares  # both really worked, side by side
    assert {(r.status, r.attempts) for r in await rows(own_engine)} == {("done", 1)}

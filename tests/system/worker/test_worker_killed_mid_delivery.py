"""`faros worker` SIGKILLed while its SMTP relay holds the answers: nothing is lost.

The relay (aiosmtpd) takes each message when its data has arrived, as a real relay commits it
to its queue, and answers 250 only when the test releases it. So the messages the killed worker
had in flight did reach the relay, but the worker never learnt it: they are sent again once
their lease ends (at least once), and only they are.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from outbox_kit import SmtpReceiver, email, eventually, queue, rows
from process_kit import faros_env, running
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.domain.services.outbox_processor import BATCH_SIZE, LEASE_SECONDS

pytestmark = [pytest.mark.postgres, pytest.mark.smtp, pytest.mark.system, pytest.mark.slow]

COUNT = 30


async def test_a_worker_killed_mid_delivery_loses_nothing(
    own_url: str, own_uow: PostgresUnitOfWorkFactory, own_engine: AsyncEngine, tmp_path: Path
) -> None:
    await queue(own_uow, [email(n) for n in range(COUNT)], datetime.now(UTC), one_tx=True)
    with SmtpReceiver() as relay:
        env = faros_env(
            own_url, tmp_path / "data", email_provider="smtp", smtp_host=relay.host,
            smtp_port=str(relay.port),
        )  # fmt: skip
        relay.hold_replies()
        with running("worker", env, tmp_path, "first") as first:
            await eventually(lambda: _is(relay.held > 0), what="the first worker to deliver")
            first.kill()
        # Its connections are closed: the relay drops what it was holding for them.
        await eventually(lambda: _is(relay.held == 0), what="the relay to notice")
        in_flight = relay.subjects()
        assert 0 < len(in_flight) <= BATCH_SIZE
        leased = [r for r in await rows(own_engine) if r.attempts == 1]
        leased_ids = {r.id for r in leased}
        assert len(leased) == BATCH_SIZE  # one batch was taken, its attempts counted
        assert {r.subject for r in leased} >= set(in_flight)
        assert all(r.available_at > datetime.now(UTC) + timedelta(seconds=LEASE_SECONDS / 2)
                   for r in leased)  # fmt: skip

        with running("worker", env, tmp_path, "second") as second:
            await eventually(lambda: _is(relay.held > 0), what="the second worker to deliver")
            relay.release()

            async def others_done() -> bool:
                others = [r for r in await rows(own_engine) if r.id not in leased_ids]
                return all(r.status == "done" for r in others)

            await eventually(others_done, what="the messages nobody had leased")
            # The dead worker's batch waits for its lease, then goes out.
            for row in await rows(own_engine):
                assert (row.status == "pending") == (row.id in leased_ids)
            await _end_leases(own_engine)

            async def all_done() -> bool:
                return all(r.status == "done" for r in await rows(own_engine))

            await eventually(all_done, what="the leased messages after their lease")
            assert second.stop() == 0, second.output()

    arrived = relay.subjects()
    assert set(arrived) == {f"m-{n}" for n in range(COUNT)}  # nothing lost
    # Sent twice: exactly the messages the relay had taken from the killed worker.
    assert {subject for subject, times in arrived.items() if times > 1} == set(in_flight)
    assert max(arrived.values()) == 2
    final = await rows(own_engine)
    assert Counter(r.attempts for r in final) == Counter({1: COUNT - BATCH_SIZE, 2: BATCH_SIZE})


async def _is(value: bool) -> bool:
    await asyncio.sleep(0)
    return value


async def _end_leases(engine: AsyncEngine) -> None:
    """What waiting LEASE_SECONDS would do, and the wake-up a new message would send."""
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE faros.outbox SET available_at = now() WHERE status = 'pending'")
        )
        await connection.execute(text("NOTIFY faros_outbox"))

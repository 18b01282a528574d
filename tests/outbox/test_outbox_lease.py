"""OutboxRepository.lease, the same contract on the memory store and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from faros.adapters.memory import MemoryUnitOfWorkFactory
from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.domain.outbox import NewOutboxMessage
from faros.ports.unit_of_work import UnitOfWorkFactory

T0 = datetime(2031, 1, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def uow(request: pytest.FixtureRequest) -> Iterator[UnitOfWorkFactory]:
    if request.param == "memory":
        yield MemoryUnitOfWorkFactory()
    else:
        yield request.getfixturevalue("own_uow")


def _message(n: int) -> NewOutboxMessage:
    return NewOutboxMessage("delete_blob", {"key": f"k{n}"})


async def _lease(uow: UnitOfWorkFactory, now: datetime, limit: int = 10) -> list[tuple[str, int]]:
    async with uow() as unit:
        taken = await unit.outbox.lease(now, now + LEASE, limit)
        await unit.commit()
    return [(str(m.payload["key"]), m.attempts) for m in taken]


async def test_a_lease_counts_the_attempt_and_hides_the_message_until_it_ends(
    uow: UnitOfWorkFactory,
) -> None:
    async with uow() as unit:
        for n, minutes in [(1, 2), (2, 0), (3, 1), (4, 60)]:
            await unit.outbox.add(_message(n), T0 + timedelta(minutes=minutes))
        await unit.commit()

    assert await _lease(uow, T0 - timedelta(seconds=1)) == []
    # Oldest first, up to the limit; each one's attempt counted.
    assert await _lease(uow, T0 + timedelta(minutes=2), limit=2) == [("k2", 1), ("k3", 1)]
    assert await _lease(uow, T0 + timedelta(minutes=2)) == [("k1", 1)]
    # Hidden until the lease ends, then taken again with a second attempt counted.
    assert await _lease(uow, T0 + timedelta(minutes=3)) == []
    # (All three leases ended at the same instant: then the older message goes first.)
    assert await _lease(uow, T0 + timedelta(minutes=2) + LEASE) == [
        ("k1", 2), ("k2", 2), ("k3", 2),
    ]  # fmt: skip


async def test_recording_an_outcome_ends_the_lease(uow: UnitOfWorkFactory) -> None:
    async with uow() as unit:
        for n in range(3):
            await unit.outbox.add(_message(n), T0)
        await unit.commit()
    async with uow() as unit:
        done, dead, retried = await unit.outbox.lease(T0, T0 + LEASE, 10)
        await unit.outbox.mark_done(done.id, T0)
        await unit.outbox.mark_dead(dead.id, dead.attempts, T0, "gave up")
        await unit.outbox.mark_retry(retried.id, retried.attempts, T0 + timedelta(seconds=2), "x")
        await unit.commit()
    assert await _lease(uow, T0 + timedelta(seconds=2)) == [("k2", 2)]
    assert await _lease(uow, T0 + timedelta(days=1)) == [("k2", 3)]


@pytest.mark.postgres
async def test_concurrent_leases_take_disjoint_messages(
    own_uow: PostgresUnitOfWorkFactory,
) -> None:
    async with own_uow() as unit:
        for n in range(6):
            await unit.outbox.add(_message(n), T0)
        await unit.commit()
    first, second = own_uow(), own_uow()
    async with first, second:
        mine = await first.outbox.lease(T0, T0 + LEASE, 4)
        # Not committed yet: the second skips the locked rows instead of waiting for them.
        theirs = await asyncio.wait_for(second.outbox.lease(T0, T0 + LEASE, 10), timeout=10)
        assert [m.payload["key"] for m in mine] == ["k0", "k1", "k2", "k3"]
        assert [m.payload["key"] for m in theirs] == ["k4", "k5"]

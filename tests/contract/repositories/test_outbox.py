"""OutboxRepository.

Messages here are dated a century and more ago, in units of work that are never committed, so
claim() sees exactly this test's messages even in a database other tests and workers share.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from faros.domain.outbox import NewOutboxMessage, OutboxMessage
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .builders import unique


def _ancient() -> datetime:
    # Distinct per test, so no two tests ever look at the same instants.
    return datetime(1850, 1, 1, tzinfo=UTC) + timedelta(minutes=random.randrange(10**7))


def _email(n: int, dedupe_key: str | None = None) -> NewOutboxMessage:
    return NewOutboxMessage("send_email", {"to": f"{n}@example.com", "n": n}, dedupe_key)


async def _claim_all(uow: UnitOfWork, now: datetime) -> list[OutboxMessage]:
    return await uow.outbox.claim(now, 100)


async def test_a_queued_message_reads_back_when_due(uow_factory: UnitOfWorkFactory) -> None:
    t0 = _ancient()
    payload = {"to": "a@example.com", "list": [1, "two", None], "nested": {"ok": True}}
    async with uow_factory() as uow:
        await uow.outbox.add(NewOutboxMessage("delete_blob", payload), t0)
        assert await _claim_all(uow, t0 - timedelta(microseconds=1)) == []
        [message] = await _claim_all(uow, t0)
        assert (message.kind, message.payload, message.attempts, message.created_at) == (
            "delete_blob",
            payload,
            0,
            t0,
        )


async def test_claim_takes_due_messages_oldest_first_up_to_the_limit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    t0 = _ancient()
    async with uow_factory() as uow:
        for n, minutes in [(1, 3), (2, 1), (3, 2), (4, 10)]:
            await uow.outbox.add(_email(n), t0 + timedelta(minutes=minutes))
        due = await _claim_all(uow, t0 + timedelta(minutes=3))
        assert [m.payload["n"] for m in due] == [2, 3, 1]
        assert [m.payload["n"] for m in await uow.outbox.claim(t0 + timedelta(hours=1), 2)] == [
            2,
            3,
        ]


async def test_dedupe_key_drops_a_second_message_whatever_the_first_became(
    uow_factory: UnitOfWorkFactory,
) -> None:
    t0 = _ancient()
    sent_key, dead_key, queued_key = unique("k"), unique("k"), unique("k")
    async with uow_factory() as uow:
        await uow.outbox.add(_email(1, sent_key), t0)
        await uow.outbox.add(_email(2, dead_key), t0)
        [sent, dead] = await _claim_all(uow, t0)
        await uow.outbox.mark_done(sent.id, t0)
        await uow.outbox.mark_dead(dead.id, 8, t0, "gave up")
        await uow.outbox.add(_email(3, queued_key), t0)
        for n, key in [(4, sent_key), (5, dead_key), (6, queued_key)]:
            await uow.outbox.add(_email(n, key), t0)
        await uow.outbox.add(_email(7), t0)
        await uow.outbox.add(_email(8), t0)  # messages without a key are never duplicates
        assert [m.payload["n"] for m in await _claim_all(uow, t0)] == [3, 7, 8]


async def test_done_and_dead_messages_are_not_claimed_again(
    uow_factory: UnitOfWorkFactory,
) -> None:
    t0 = _ancient()
    async with uow_factory() as uow:
        for n in range(3):
            await uow.outbox.add(_email(n), t0)
        first, second, third = await _claim_all(uow, t0)
        await uow.outbox.mark_done(first.id, t0)
        await uow.outbox.mark_dead(second.id, 8, t0, "boom")
        assert await _claim_all(uow, t0 + timedelta(days=1)) == [third]


async def test_a_retried_message_waits_and_then_carries_its_attempts(
    uow_factory: UnitOfWorkFactory,
) -> None:
    t0 = _ancient()
    async with uow_factory() as uow:
        await uow.outbox.add(_email(1), t0)
        await uow.outbox.add(_email(2), t0 + timedelta(seconds=1))
        [first, _] = await _claim_all(uow, t0 + timedelta(seconds=1))
        await uow.outbox.mark_retry(first.id, 3, t0 + timedelta(seconds=8), "temporary\x00glitch")
        assert [m.payload["n"] for m in await _claim_all(uow, t0 + timedelta(seconds=7))] == [2]
        # Once due again it sorts by its new due time, behind the message due earlier.
        later = await _claim_all(uow, t0 + timedelta(seconds=8))
        assert [(m.payload["n"], m.attempts) for m in later] == [(2, 0), (1, 3)]
        assert later[1].created_at == t0


async def _count_error(
    uow_factory: UnitOfWorkFactory, change: Callable[[UnitOfWork], Awaitable[int]]
) -> int:
    """How far pending_count's rise misses what `change` says it queued (0 when exact).

    Each try is one never-committed unit of work. Other workers may commit messages between
    the two counts; a few tries find a quiet moment, while a wrong count is wrong every time.
    """
    seen: list[int] = []
    for _ in range(5):
        async with uow_factory() as uow:
            before = await uow.outbox.pending_count()
            expected = await change(uow)
            after = await uow.outbox.pending_count()
        seen.append(after - before - expected)
        if seen[-1] == 0:
            return 0
    return seen[0]


async def test_pending_count_counts_queued_messages_due_or_not(
    uow_factory: UnitOfWorkFactory,
) -> None:
    t0 = _ancient()

    async def queue_two(uow: UnitOfWork) -> int:
        await uow.outbox.add(_email(1), t0)
        await uow.outbox.add(_email(2), t0 + timedelta(days=365))
        return 2

    async def queue_three_finish_two(uow: UnitOfWork) -> int:
        for n in range(3):
            await uow.outbox.add(_email(n), t0)
        done, dead, retried = await _claim_all(uow, t0)
        await uow.outbox.mark_done(done.id, t0)
        await uow.outbox.mark_dead(dead.id, 8, t0, "x")
        await uow.outbox.mark_retry(retried.id, 1, t0 + timedelta(minutes=1), "y")
        return 1

    assert await _count_error(uow_factory, queue_two) == 0
    assert await _count_error(uow_factory, queue_three_finish_two) == 0


async def test_claimed_payloads_are_copies(uow_factory: UnitOfWorkFactory) -> None:
    t0 = _ancient()
    payload: dict[str, Any] = {"to": "a@example.com", "list": [1]}
    async with uow_factory() as uow:
        await uow.outbox.add(NewOutboxMessage("send_email", payload), t0)
        payload["list"].append("changed before claiming")
        [first] = await _claim_all(uow, t0)
        first.payload["list"].append("changed after claiming")
        [again] = await _claim_all(uow, t0)
        assert again.payload == {"to": "a@example.com", "list": [1]}

"""Concurrent units of work: unique races answer domain errors (D23), claims never overlap.

Rows here are committed (a race needs two transactions), so every name is random and the
outbox messages are due only in a far future that no other test ever claims.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from faros.domain.errors import Conflict, DuplicateUser
from faros.domain.outbox import NewOutboxMessage
from faros.domain.sharing import NewShare
from faros.domain.users import NewUser
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .helpers import NOW, add_task, add_user, unique

pytestmark = pytest.mark.postgres

# Long enough for the other unit of work's insert to reach the server and wait on ours.
HOLD_SECONDS = 0.2


async def _race(
    uow_factory: UnitOfWorkFactory, insert: Callable[[UnitOfWork], Awaitable[object]]
) -> list[object]:
    """Run `insert` in two units of work at once, each holding its transaction open a moment
    before committing; returns what each attempt returned or raised."""

    async def attempt() -> object:
        async with uow_factory() as uow:
            result = await insert(uow)
            await asyncio.sleep(HOLD_SECONDS)
            await uow.commit()
            return result

    outcomes = await asyncio.wait_for(
        asyncio.gather(attempt(), attempt(), return_exceptions=True), timeout=30
    )
    return list(outcomes)


def _split(outcomes: list[object]) -> tuple[list[object], list[BaseException]]:
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    return [o for o in outcomes if not isinstance(o, BaseException)], errors


async def test_racing_registrations_of_one_username_give_one_user_and_one_409(
    uow_factory: UnitOfWorkFactory,
) -> None:
    name = unique()

    async def register(uow: UnitOfWork) -> object:
        # Different e-mails: only the username clashes.
        return await uow.users.add(NewUser(name, f"{unique()}@example.com", "h", NOW))

    successes, errors = _split(await _race(uow_factory, register))
    assert len(successes) == 1
    assert [type(e) for e in errors] == [DuplicateUser]
    assert isinstance(errors[0], DuplicateUser)
    assert (errors[0].field, errors[0].value) == ("username", name)


async def test_racing_registrations_of_one_username_in_two_cases_give_one_user(
    uow_factory: UnitOfWorkFactory,
) -> None:
    name = unique()
    spellings = iter([name, name.upper()])

    async def register(uow: UnitOfWork) -> object:
        # No index is unique on lower(username): the advisory lock alone must decide.
        return await uow.users.add(NewUser(next(spellings), f"{unique()}@example.com", "h", NOW))

    successes, errors = _split(await _race(uow_factory, register))
    assert len(successes) == 1
    assert [type(e) for e in errors] == [DuplicateUser]
    assert isinstance(errors[0], DuplicateUser)
    assert errors[0].field == "username"


async def test_racing_registrations_of_one_email_give_one_user_and_one_409(
    uow_factory: UnitOfWorkFactory,
) -> None:
    email = f"{unique()}@example.com"

    async def register(uow: UnitOfWork) -> object:
        # The second spelling differs in case only: the lower(email) index decides.
        spelling = email if random.random() < 0.5 else email.upper()
        return await uow.users.add(NewUser(unique(), spelling, "h", NOW))

    successes, errors = _split(await _race(uow_factory, register))
    assert len(successes) == 1
    assert [type(e) for e in errors] == [DuplicateUser]
    assert isinstance(errors[0], DuplicateUser)
    assert errors[0].field == "email"


async def test_racing_shares_of_one_task_give_one_share_and_one_409(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner, friend = await add_user(uow), await add_user(uow)
        task = await add_task(uow, owner)
        await uow.commit()

    async def share(uow: UnitOfWork) -> object:
        return await uow.shares.add(NewShare(task.id, friend.id, "view", NOW, owner.id))

    successes, errors = _split(await _race(uow_factory, share))
    assert len(successes) == 1
    assert [type(e) for e in errors] == [Conflict]
    assert errors[0].args == ("Task already shared with this user",)


async def test_a_lost_race_leaves_the_transaction_usable(
    uow_factory: UnitOfWorkFactory,
) -> None:
    # ON CONFLICT DO NOTHING reports the clash without aborting the transaction, so the
    # unit of work can go on (a unique violation would fail every later statement).
    async with uow_factory() as uow:
        taken = await add_user(uow)
        await uow.commit()
    async with uow_factory() as uow:
        other = await add_user(uow)
        with pytest.raises(DuplicateUser):
            await uow.users.add(NewUser(taken.username, "x@example.org", "h", NOW))
        assert await uow.users.get(other.id) == other


def _far_future() -> datetime:
    # Claimed by no other test: they all ask with instants centuries earlier.
    return datetime(9000, 1, 1, tzinfo=UTC) + timedelta(minutes=random.randrange(10**8))


async def test_concurrent_claims_skip_each_others_locked_messages(
    uow_factory: UnitOfWorkFactory,
) -> None:
    due = _far_future()
    marker = unique("claim")
    async with uow_factory() as uow:
        for n in range(6):
            await uow.outbox.add(NewOutboxMessage("delete_blob", {"m": marker, "n": n}), due)
        await uow.commit()

    first, second, third = uow_factory(), uow_factory(), uow_factory()
    async with first, second, third:
        mine = await first.outbox.claim(due, 4)
        # Neither waits for the first one's locks: SKIP LOCKED moves on to free rows.
        theirs = await asyncio.wait_for(second.outbox.claim(due, 10), timeout=5)
        leftovers = await asyncio.wait_for(third.outbox.claim(due, 10), timeout=5)
        assert [m.payload["n"] for m in mine] == [0, 1, 2, 3]
        assert [m.payload["n"] for m in theirs] == [4, 5]
        assert leftovers == []
        for uow, batch in ((first, mine), (second, theirs)):
            for message in batch:
                await uow.outbox.mark_done(message.id, due)
            await uow.commit()

    async with uow_factory() as uow:
        assert await uow.outbox.claim(due, 10) == []


async def test_an_uncommitted_claim_is_released_for_the_next_worker(
    uow_factory: UnitOfWorkFactory,
) -> None:
    due = _far_future()
    async with uow_factory() as uow:
        await uow.outbox.add(NewOutboxMessage("delete_blob", {"m": unique()}), due)
        await uow.commit()
    async with uow_factory() as crashed:
        [claimed] = await crashed.outbox.claim(due, 10)
        # leaves without commit, as a worker dying mid-batch would
    async with uow_factory() as uow:
        [again] = await uow.outbox.claim(due, 10)
        assert again.id == claimed.id
        await uow.outbox.mark_done(again.id, due)
        await uow.commit()

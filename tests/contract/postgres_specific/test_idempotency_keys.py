"""A key held by an unfinished transaction is `busy` for the others, at once (no waiting)."""

from __future__ import annotations

import asyncio

import pytest

from faros.domain.idempotency import KEY_LIFETIME, IdempotencyRecord, StoredResponse
from faros.domain.users import NewUser
from faros.ports.idempotency_repository import Claim
from faros.ports.unit_of_work import UnitOfWorkFactory

from .helpers import NOW, unique

pytestmark = pytest.mark.postgres


async def test_a_key_held_by_a_running_transaction_is_busy_then_replayable(
    uow_factory: UnitOfWorkFactory,
) -> None:
    key = unique("key-")
    async with uow_factory() as setup:
        user = await setup.users.add(NewUser(unique(), f"{unique()}@example.com", "h", NOW))
        await setup.commit()
    answer = StoredResponse(201, "application/json", b"{}", "/tasks/1")
    kept = IdempotencyRecord(user.id, key, b"f" * 32, answer, NOW, NOW + KEY_LIFETIME)
    async with uow_factory() as first:
        assert await first.idempotency.claim(user.id, key, NOW) == Claim()
        async with uow_factory() as second:
            claimed = await asyncio.wait_for(second.idempotency.claim(user.id, key, NOW), 5)
            assert claimed == Claim(busy=True)
        # The same user's other keys are not held.
        async with uow_factory() as third:
            assert await third.idempotency.claim(user.id, key + "-b", NOW) == Claim()
        await first.idempotency.add(kept)
        await first.commit()
    async with uow_factory() as retry:
        assert await retry.idempotency.claim(user.id, key, NOW) == Claim(record=kept)


async def test_retries_of_an_answered_key_replay_together(uow_factory: UnitOfWorkFactory) -> None:
    """A replay holds the key's lock for a moment too; a retry beside it still replays."""
    key = unique("key-")
    async with uow_factory() as setup:
        user = await setup.users.add(NewUser(unique(), f"{unique()}@example.com", "h", NOW))
        kept = IdempotencyRecord(
            user.id, key, b"f" * 32, StoredResponse(200, "application/json", b"[]"), NOW,
            NOW + KEY_LIFETIME,
        )  # fmt: skip
        await setup.idempotency.add(kept)
        await setup.commit()
    async with uow_factory() as first, uow_factory() as second:
        assert await first.idempotency.claim(user.id, key, NOW) == Claim(record=kept)
        assert await second.idempotency.claim(user.id, key, NOW) == Claim(record=kept)

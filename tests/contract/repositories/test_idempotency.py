"""IdempotencyRepository."""

from __future__ import annotations

from datetime import timedelta

from faros.domain.idempotency import KEY_LIFETIME, IdempotencyRecord, StoredResponse
from faros.ports.idempotency_repository import Claim
from faros.ports.unit_of_work import UnitOfWorkFactory

from .builders import NOW, add_user, unique

ANSWER = StoredResponse(201, "application/json", b'{"id":7,"t":"\xc3\xa9"}', "/tasks/7")


def record(user_id: int, key: str, *, at: timedelta = timedelta(0)) -> IdempotencyRecord:
    return IdempotencyRecord(
        user_id=user_id,
        key=key,
        fingerprint=b"\x00\xff" * 16,
        response=ANSWER,
        created_at=NOW + at,
        expires_at=NOW + at + KEY_LIFETIME,
    )


async def test_a_kept_answer_is_found_by_its_user_and_key(uow_factory: UnitOfWorkFactory) -> None:
    key = unique("key-")
    async with uow_factory() as uow:
        user, other = await add_user(uow), await add_user(uow)
        assert await uow.idempotency.claim(user.id, key, NOW) == Claim()
        await uow.idempotency.add(record(user.id, key))
        assert await uow.idempotency.claim(user.id, key, NOW) == Claim(record=record(user.id, key))
        # Keys are per user; another key of the same user is another key.
        assert await uow.idempotency.claim(other.id, key, NOW) == Claim()
        assert await uow.idempotency.claim(user.id, key + "x", NOW) == Claim()


async def test_an_answer_commits_or_rolls_back_with_its_unit_of_work(
    uow_factory: UnitOfWorkFactory,
) -> None:
    kept, dropped = unique("key-"), unique("key-")
    async with uow_factory() as uow:
        user = await add_user(uow)
        await uow.idempotency.add(record(user.id, kept))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.idempotency.claim(user.id, dropped, NOW)
        await uow.idempotency.add(record(user.id, dropped))
        # left without commit
    async with uow_factory() as uow:
        assert (await uow.idempotency.claim(user.id, kept, NOW)).record == record(user.id, kept)
        assert await uow.idempotency.claim(user.id, dropped, NOW) == Claim()


async def test_an_expired_answer_is_gone_and_its_key_can_be_kept_again(
    uow_factory: UnitOfWorkFactory,
) -> None:
    key = unique("key-")
    async with uow_factory() as uow:
        user = await add_user(uow)
        await uow.idempotency.add(record(user.id, key))
        expiry = NOW + KEY_LIFETIME
        assert (await uow.idempotency.claim(user.id, key, expiry - timedelta(seconds=1))).record
        assert await uow.idempotency.claim(user.id, key, expiry) == Claim()
        later = record(user.id, key, at=KEY_LIFETIME + timedelta(hours=1))
        await uow.idempotency.add(later)
        assert await uow.idempotency.claim(user.id, key, later.created_at) == Claim(record=later)


async def test_purge_deletes_only_expired_answers(uow_factory: UnitOfWorkFactory) -> None:
    old, fresh = unique("key-"), unique("key-")
    async with uow_factory() as uow:
        user = await add_user(uow)
        # Fresh first: adding a record may purge a few expired ones on the way (the port).
        await uow.idempotency.add(record(user.id, fresh))
        await uow.idempotency.add(record(user.id, old, at=-KEY_LIFETIME - timedelta(hours=1)))
        # Other tests' rows may be expired too (the database is shared): a generous limit.
        assert await uow.idempotency.purge_expired(NOW, 10_000) >= 1
        assert await uow.idempotency.claim(user.id, fresh, NOW) == Claim(
            record=record(user.id, fresh)
        )
        # Gone, not merely expired: asked at a time it was still valid, it is not found.
        before_expiry = NOW - timedelta(hours=2)
        assert await uow.idempotency.claim(user.id, old, before_expiry) == Claim()

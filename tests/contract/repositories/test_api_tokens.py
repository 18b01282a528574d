"""ApiTokenRepository: the same contract on the memory and PostgreSQL adapters."""

from __future__ import annotations

import uuid
from datetime import timedelta

from faros.domain.api_tokens import ApiToken, NewApiToken, Scope, secret_hash
from faros.domain.users import User
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .builders import NOW, add_user


def _new(user: User, *scopes: Scope, name: str = "ci", days: int = 30) -> NewApiToken:
    return NewApiToken(
        user_id=user.id,
        name=name,
        scopes=scopes or ("tasks:read",),
        token_hash=secret_hash(f"faros_pat_{uuid.uuid4().hex}"),
        created_at=NOW,
        expires_at=NOW + timedelta(days=days),
    )


async def _add(uow: UnitOfWork, user: User, *scopes: Scope, name: str = "ci") -> ApiToken:
    return await uow.api_tokens.add(_new(user, *scopes, name=name))


async def test_add_stores_every_field_and_hands_out_ids(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        user = await add_user(uow)
        wanted = _new(user, "tasks:read", "files:write", name="nightly")
        token = await uow.api_tokens.add(wanted)
        other = await _add(uow, user)
        assert token.id > 0
        assert other.id != token.id
        assert (token.user_id, token.name, token.scopes) == (
            user.id,
            "nightly",
            ("tasks:read", "files:write"),
        )
        assert (token.token_hash, token.created_at, token.expires_at) == (
            wanted.token_hash,
            wanted.created_at,
            wanted.expires_at,
        )
        assert token.last_used_at is None


async def test_for_user_lists_only_theirs_newest_first(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        alice, bob = await add_user(uow), await add_user(uow)
        first = await _add(uow, alice, name="first")
        second = await _add(uow, alice, name="second")
        await _add(uow, bob)
        assert [t.name for t in await uow.api_tokens.for_user(alice.id)] == ["second", "first"]
        assert [t.id for t in await uow.api_tokens.for_user(alice.id)] == [second.id, first.id]
        assert await uow.api_tokens.for_user(2**40) == []


async def test_holder_finds_the_token_and_its_user_by_digest(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        user = await add_user(uow)
        token = await _add(uow, user, "activity:read")
        found = await uow.api_tokens.holder(token.token_hash)
        assert found is not None
        holder, same = found
        assert (holder.id, holder.username) == (user.id, user.username)
        assert same == token
        assert await uow.api_tokens.holder(secret_hash("faros_pat_unknown")) is None
        assert await uow.api_tokens.holder("nul\x00") is None


async def test_revoke_deletes_only_the_owners_token(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        alice, bob = await add_user(uow), await add_user(uow)
        token = await _add(uow, alice)
        assert await uow.api_tokens.revoke(bob.id, token.id) is False
        assert await uow.api_tokens.holder(token.token_hash) is not None
        assert await uow.api_tokens.revoke(alice.id, token.id) is True
        assert await uow.api_tokens.holder(token.token_hash) is None
        assert await uow.api_tokens.revoke(alice.id, token.id) is False
        assert await uow.api_tokens.revoke(alice.id, 2**40) is False


async def test_revoke_all_deletes_every_token_of_the_user(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        alice, bob = await add_user(uow), await add_user(uow)
        mine = [await _add(uow, alice), await _add(uow, alice)]
        theirs = await _add(uow, bob)
        assert await uow.api_tokens.revoke_all(alice.id) == 2
        assert await uow.api_tokens.for_user(alice.id) == []
        for token in mine:
            assert await uow.api_tokens.holder(token.token_hash) is None
        assert await uow.api_tokens.for_user(bob.id) == [theirs]
        assert await uow.api_tokens.revoke_all(alice.id) == 0


async def test_touch_records_a_use_at_most_once_per_interval(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        user = await add_user(uow)
        token = await _add(uow, user)
        await uow.api_tokens.touch(token, NOW, NOW - timedelta(minutes=1))
        [used] = await uow.api_tokens.for_user(user.id)
        assert used.last_used_at == NOW
        # Another process recorded a use 30 s ago: this one writes nothing.
        later = NOW + timedelta(seconds=30)
        await uow.api_tokens.touch(used, later, later - timedelta(minutes=1))
        [same] = await uow.api_tokens.for_user(user.id)
        assert same.last_used_at == NOW
        # A use recorded exactly `since` ago is old enough.
        minute = NOW + timedelta(minutes=1)
        await uow.api_tokens.touch(same, minute, NOW)
        [same] = await uow.api_tokens.for_user(user.id)
        assert same.last_used_at == minute
        much_later = NOW + timedelta(minutes=5)
        await uow.api_tokens.touch(same, much_later, much_later - timedelta(minutes=1))
        [moved] = await uow.api_tokens.for_user(user.id)
        assert moved.last_used_at == much_later


async def test_a_token_goes_with_its_rollback(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        user = await add_user(uow)
        await uow.commit()
    async with uow_factory() as uow:
        token = await _add(uow, user)
        # left without commit
    async with uow_factory() as uow:
        assert await uow.api_tokens.holder(token.token_hash) is None
        kept = await _add(uow, user)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.api_tokens.holder(kept.token_hash) is not None
        assert await uow.api_tokens.revoke(user.id, kept.id)
        await uow.commit()

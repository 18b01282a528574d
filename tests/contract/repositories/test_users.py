"""UserRepository and RevokedTokenRepository."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from faros.domain.errors import DuplicateUser
from faros.domain.users import NewUser, User, UserRef
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .builders import NOW, add_user, unique

OUT_OF_RANGE_IDS = [0, -1, 2**31, 2**63]


async def test_add_stores_the_user_with_account_defaults(uow_factory: UnitOfWorkFactory) -> None:
    name = unique()
    async with uow_factory() as uow:
        user = await uow.users.add(NewUser(name, f"{name}@Example.com", "h4sh", NOW))
        assert user.id > 0
        assert (user.username, user.email, user.hashed_password) == (
            name,
            f"{name}@Example.com",
            "h4sh",
        )
        assert user.created_at == NOW
        assert user.avatar_url is None
        assert user.email_verified is False
        assert user.verification_code_hash is None
        assert user.reset_token_hash is None
        assert user.token_version == 0
        assert await uow.users.get(user.id) == user


async def test_ids_that_name_no_row_find_nothing(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await add_user(uow)
        for user_id in OUT_OF_RANGE_IDS:
            assert await uow.users.get(user_id) is None


async def test_a_taken_username_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        taken = await add_user(uow)
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(DuplicateUser) as caught:
            await uow.users.add(NewUser(taken.username, f"{unique()}@example.com", "h", NOW))
        # The refusal does not break the unit of work (D23 answers 409 from inside it).
        assert await uow.users.by_username(taken.username) == taken
    assert (caught.value.field, caught.value.value) == ("username", taken.username)


async def test_the_username_clash_is_reported_before_the_email_clash(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        taken = await add_user(uow)
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(DuplicateUser) as caught:
            await uow.users.add(NewUser(taken.username, taken.email, "h", NOW))
    assert caught.value.field == "username"


async def test_emails_clash_whatever_their_case(uow_factory: UnitOfWorkFactory) -> None:
    local = unique("Mail")
    async with uow_factory() as uow:
        await add_user(uow, email=f"{local}@Example.org")
        await uow.commit()
    shouted = f"{local.upper()}@EXAMPLE.ORG"
    async with uow_factory() as uow:
        with pytest.raises(DuplicateUser) as caught:
            await uow.users.add(NewUser(unique(), shouted, "h", NOW))
    assert (caught.value.field, caught.value.value) == ("email", shouted)


async def test_a_username_differing_only_in_case_is_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    name = unique("abc")
    async with uow_factory() as uow:
        taken = await add_user(uow, name)
        await uow.commit()
    for spelling in (name.upper(), name.capitalize()):
        async with uow_factory() as uow:
            with pytest.raises(DuplicateUser) as caught:
                await add_user(uow, spelling, f"{unique()}@example.com")
        assert (caught.value.field, caught.value.value) == ("username", spelling)
    # Reported before an e-mail clash, as for an exact duplicate.
    async with uow_factory() as uow:
        with pytest.raises(DuplicateUser) as both:
            await add_user(uow, name.upper(), taken.email)
    assert both.value.field == "username"


async def test_looking_up_a_username_stays_exact(uow_factory: UnitOfWorkFactory) -> None:
    name = unique("abc")
    async with uow_factory() as uow:
        user = await add_user(uow, name)
        assert await uow.users.by_username(name) == user
        assert await uow.users.by_username(name.upper()) is None
        assert await uow.users.by_username(name.capitalize()) is None


async def test_by_email_ignores_case(uow_factory: UnitOfWorkFactory) -> None:
    local = unique("Mixed")
    async with uow_factory() as uow:
        user = await add_user(uow, email=f"{local}@Example.com")
        assert await uow.users.by_email(f"{local.lower()}@example.COM") == user
        assert await uow.users.by_email(f"{local}@example.net") is None


async def test_update_persists_every_column_and_lookups_by_token_hash_find_it(
    uow_factory: UnitOfWorkFactory,
) -> None:
    code, reset = unique("code"), unique("reset")
    async with uow_factory() as uow:
        user = await add_user(uow)
        assert await uow.users.by_verification_code(code) is None
        assert await uow.users.by_reset_token(reset) is None
        changed = replace(
            user,
            hashed_password="new-hash",
            avatar_url=f"/users/{user.id}/avatar.png",
            email_verified=True,
            verification_code_hash=code,
            verification_expires=NOW + timedelta(hours=24),
            reset_token_hash=reset,
            reset_token_expires=NOW + timedelta(minutes=30),
            token_version=3,
        )
        await uow.users.update(changed)
        assert await uow.users.get(user.id) == changed
        assert await uow.users.by_verification_code(code) == changed
        assert await uow.users.by_reset_token(reset) == changed
        assert await uow.users.by_verification_code(reset) is None


async def test_returned_users_are_copies(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        user = await add_user(uow)
        user.token_version = 99
        fetched = await uow.users.get(user.id)
        assert fetched is not None
        assert fetched.token_version == 0
        fetched.email_verified = True
        assert (await uow.users.by_username(user.username)) == replace(
            fetched, email_verified=False
        )


async def test_search_matches_substrings_ignoring_case_in_username_order(
    uow_factory: UnitOfWorkFactory,
) -> None:
    token = unique("q")
    async with uow_factory() as uow:
        caller = await add_user(uow, f"{token}caller")
        zed = await add_user(uow, f"z{token.upper()}")
        bob = await add_user(uow, f"b{token}x")
        ann = await add_user(uow, f"a{token}")
        await add_user(uow, unique("other"))
        found = await uow.users.search(token, caller.id, 10)
        assert found == [
            UserRef(ann.id, ann.username),
            UserRef(bob.id, bob.username),
            UserRef(zed.id, zed.username),
        ]
        assert await uow.users.search(token.upper(), caller.id, 2) == found[:2]
        # The caller is left out even when it is the only match.
        assert await uow.users.search(f"{token}caller", caller.id, 10) == []


@pytest.mark.parametrize("wildcard", ["%", "_", "\\"])
async def test_search_treats_like_wildcards_literally(
    uow_factory: UnitOfWorkFactory, wildcard: str
) -> None:
    token = unique("w")
    async with uow_factory() as uow:
        caller = await add_user(uow)
        literal = await add_user(uow, f"{token}{wildcard}a")
        await add_user(uow, f"{token}xa")  # what the wildcard would match
        await add_user(uow, f"{token}xya")
        found = await uow.users.search(f"{token}{wildcard}a", caller.id, 10)
        assert found == [UserRef(literal.id, literal.username)]


# --- revoked tokens ------------------------------------------------------------------------------
# Expiry times long in the past keep purge_expired() away from other tests' rows.


async def _revoked(uow: UnitOfWork, user: User, jti: str) -> bool:
    holder = await uow.users.token_holder(user.username, jti)
    assert holder is not None
    return holder[1]


async def test_revoking_is_idempotent_and_visible(uow_factory: UnitOfWorkFactory) -> None:
    jti = unique("jti")
    async with uow_factory() as uow:
        user = await add_user(uow)
        assert await _revoked(uow, user, jti) is False
        await uow.revoked_tokens.add(jti, NOW)
        await uow.revoked_tokens.add(jti, NOW + timedelta(hours=1))
        assert await _revoked(uow, user, jti) is True
        assert await _revoked(uow, user, unique("jti")) is False


async def test_purge_removes_tokens_expired_by_now(uow_factory: UnitOfWorkFactory) -> None:
    base = datetime(1901, 1, 1, tzinfo=UTC)
    older, old, now, fresh = [unique("jti") for _ in range(4)]
    async with uow_factory() as uow:
        user = await add_user(uow)
        await uow.revoked_tokens.add(older, base - timedelta(days=1))
        await uow.revoked_tokens.add(old, base - timedelta(microseconds=1))
        # A JWT is void from its `exp` instant on, so a token expiring right now goes too.
        await uow.revoked_tokens.add(now, base)
        await uow.revoked_tokens.add(fresh, base + timedelta(microseconds=1))
        assert await uow.revoked_tokens.purge_expired(base) == 3
        for jti in (older, old, now):
            assert await _revoked(uow, user, jti) is False
        assert await _revoked(uow, user, fresh) is True
        assert await uow.revoked_tokens.purge_expired(base) == 0


async def test_token_holder_reads_the_user_and_the_deny_list_together(
    uow_factory: UnitOfWorkFactory,
) -> None:
    jti, other = unique("jti"), unique("jti")
    async with uow_factory() as uow:
        user = await add_user(uow)
        await uow.revoked_tokens.add(jti, NOW + timedelta(hours=1))
        await uow.commit()
    # A fresh unit of work: the read-only path (PostgreSQL: straight on the driver).
    async with uow_factory() as uow:
        assert await uow.users.token_holder(user.username, jti) == (user, True)
        assert await uow.users.token_holder(user.username, other) == (user, False)
        assert await uow.users.token_holder(user.username, "with\x00nul") == (user, False)
        assert await uow.users.token_holder(unique(), other) is None
        assert await uow.users.token_holder(user.username.upper(), other) is None
        assert await uow.users.token_holder("nul\x00name", other) is None
    # Inside a transaction (after a write) the answer is the same.
    async with uow_factory() as uow:
        await uow.revoked_tokens.add(other, NOW + timedelta(hours=1))
        assert await uow.users.token_holder(user.username, other) == (user, True)

"""AccountService: registration rules, login, token revocation and password reset."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from faros.adapters.security.argon2_hasher import Argon2PasswordHasher
from faros.adapters.security.jwt_issuer import JwtTokenIssuer
from faros.domain.errors import (
    AuthenticationFailed,
    DuplicateUser,
    FieldInvalid,
    Invalid,
    InvalidCredentials,
)
from faros.domain.services.accounts import AccountService
from faros.domain.users import UserRef

from .conftest import FRONTEND, World


@pytest.fixture
async def accounts(world: World) -> AsyncIterator[AccountService]:
    # Cheap argon2 parameters: these tests are about the rules, not the hash strength.
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    tokens = JwtTokenIssuer("test-secret-" + "x" * 32, 60, world.clock)
    yield AccountService(world.uow, hasher, tokens, world.clock, FRONTEND)
    await hasher.aclose()


async def test_register_validates_and_refuses_duplicates(
    world: World, accounts: AccountService
) -> None:
    with pytest.raises(FieldInvalid) as bad_name:
        await accounts.register("no spaces", "a@example.com", "password1")
    assert bad_name.value.loc == ("body", "username")
    with pytest.raises(FieldInvalid) as bad_email:
        await accounts.register("alice", "not-an-email", "password1")
    assert bad_email.value.loc == ("body", "email")
    alice = await accounts.register("alice", "Alice@Example.com", "password1")
    assert (alice.username, alice.email) == ("alice", "Alice@Example.com")
    with pytest.raises(DuplicateUser) as taken:
        await accounts.register("alice", "ALICE@example.com", "password1")
    assert taken.value.field == "username"
    with pytest.raises(DuplicateUser) as same_mail:
        await accounts.register("alice2", "ALICE@example.com", "password1")
    assert same_mail.value.field == "email"


async def test_login_and_logout(world: World, accounts: AccountService) -> None:
    await accounts.register("bob", "bob@example.com", "password1")
    with pytest.raises(InvalidCredentials):
        await accounts.login("bob", "wrong")
    with pytest.raises(InvalidCredentials):
        await accounts.login("nobody", "password1")
    issued = await accounts.login("bob", "password1")
    assert (await accounts.authenticate(issued.token)).username == "bob"
    await accounts.logout(issued.token)
    with pytest.raises(AuthenticationFailed):
        await accounts.authenticate(issued.token)
    await accounts.logout(None)
    await accounts.logout("garbage")


async def test_a_password_change_voids_earlier_tokens(
    world: World, accounts: AccountService
) -> None:
    user = await accounts.register("carol", "carol@example.com", "password1")
    old = await accounts.login("carol", "password1")
    with pytest.raises(Invalid, match=r"^Current password is incorrect$"):
        await accounts.change_password(user, "wrong", "password2")
    fresh = await accounts.change_password(user, "password1", "password2")
    with pytest.raises(AuthenticationFailed):
        await accounts.authenticate(old.token)
    assert (await accounts.authenticate(fresh.token)).username == "carol"
    await accounts.login("carol", "password2")


async def test_password_reset_by_emailed_link(world: World, accounts: AccountService) -> None:
    await accounts.register("dave", "dave@example.com", "password1")
    await accounts.request_password_reset("unknown@example.com")
    assert await world.emails() == []
    await accounts.request_password_reset("DAVE@example.com")
    [message] = await world.outbox()
    assert message.payload["to"] == "dave@example.com"
    found = re.search(r"token=([A-Za-z0-9_\-]+)", message.payload["text"])
    assert found is not None
    await accounts.reset_password(found.group(1), "password9")
    await accounts.login("dave", "password9")
    with pytest.raises(Invalid, match=r"^Invalid or expired reset token$"):
        await accounts.reset_password(found.group(1), "password10")


async def test_an_expired_reset_link_is_refused(world: World, accounts: AccountService) -> None:
    await accounts.register("erin", "erin@example.com", "password1")
    await accounts.request_password_reset("erin@example.com")
    [message] = await world.outbox()
    found = re.search(r"token=([A-Za-z0-9_\-]+)", message.payload["text"])
    assert found is not None
    world.clock.advance(31 * 60)
    with pytest.raises(Invalid, match=r"^Password reset link has expired"):
        await accounts.reset_password(found.group(1), "password2")


async def test_search_leaves_out_the_caller(world: World, accounts: AccountService) -> None:
    me = await accounts.register("team_me", "me@example.com", "password1")
    mate = await accounts.register("team_mate", "mate@example.com", "password1")
    await accounts.register("other", "other@example.com", "password1")
    assert await accounts.search(me, "TEAM", 10) == [UserRef(mate.id, "team_mate")]

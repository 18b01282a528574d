"""AccountService: registration rules, login, token revocation and password reset."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from faros.adapters.email.outbox_dir import OutboxDirEmailSender
from faros.adapters.localfs.storage import LocalBlobStorage
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
from faros.domain.services.outbox_processor import OutboxProcessor
from faros.domain.users import UserRef

from .conftest import FRONTEND, World


@pytest.fixture
async def accounts(world: World) -> AsyncIterator[AccountService]:
    # Cheap argon2 parameters: these tests are about the rules, not the hash strength.
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    tokens = JwtTokenIssuer("test-secret-" + "x" * 32, 60, world.clock)
    yield AccountService(world.uow, hasher, tokens, world.clock, FRONTEND)
    await hasher.aclose()


@pytest.fixture
def worker(world: World, accounts: AccountService, tmp_path: Path) -> OutboxProcessor:
    """The outbox worker as bootstrap wires it: reset requests are one of its jobs."""
    sender = OutboxDirEmailSender(tmp_path / "mail", "faros@example.com")
    return OutboxProcessor(
        world.uow,
        world.clock,
        sender,
        LocalBlobStorage(tmp_path / "blobs"),
        jobs={"password_reset": accounts.mail_password_reset},
    )


def _link_token(text: str) -> str:
    found = re.search(r"token=([A-Za-z0-9_\-]+)", text)
    assert found is not None
    return found.group(1)


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


async def test_password_reset_by_emailed_link(
    world: World, accounts: AccountService, worker: OutboxProcessor
) -> None:
    await accounts.register("dave", "dave@example.com", "password1")
    await accounts.request_password_reset("unknown@example.com")
    assert await worker.run_once() == 1
    assert await world.emails() == []
    await accounts.request_password_reset("DAVE@example.com")
    assert await worker.run_once() == 1  # the request; its e-mail is queued, not yet sent
    [message] = await world.outbox()
    assert message.payload["to"] == "dave@example.com"
    token = _link_token(message.payload["text"])
    await accounts.reset_password(token, "password9")
    await accounts.login("dave", "password9")
    with pytest.raises(Invalid, match=r"^Invalid or expired reset token$"):
        await accounts.reset_password(token, "password10")


async def test_a_reset_request_does_the_same_work_for_known_and_unknown_addresses(
    world: World, accounts: AccountService, worker: OutboxProcessor
) -> None:
    """D10: the request itself only queues; nothing about the account is read or written."""
    dave = await accounts.register("dave", "dave@example.com", "password1")
    await accounts.request_password_reset("dave@example.com")
    await accounts.request_password_reset("nobody@example.com")
    queued = await world.outbox()
    assert [(m.kind, m.payload) for m in queued] == [
        ("password_reset", {"email": "dave@example.com"}),
        ("password_reset", {"email": "nobody@example.com"}),
    ]
    async with world.uow() as uow:
        assert (await uow.users.get(dave.id)) == dave  # no token yet
    assert await worker.run_once() == 2
    assert await world.emails() == [("dave@example.com", "Reset your FAROS password")]


async def test_a_newer_reset_link_voids_the_older(
    world: World, accounts: AccountService, worker: OutboxProcessor
) -> None:
    await accounts.register("fay", "fay@example.com", "password1")
    tokens = []
    for _ in range(2):
        await accounts.request_password_reset("fay@example.com")
        await worker.run_once()
        tokens.append(_link_token((await world.outbox())[-1].payload["text"]))
        await worker.run_once()  # delivers that e-mail
    first, second = tokens
    assert first != second
    with pytest.raises(Invalid, match=r"^Invalid or expired reset token$"):
        await accounts.reset_password(first, "password2")
    await accounts.reset_password(second, "password2")


async def test_an_expired_reset_link_is_refused(
    world: World, accounts: AccountService, worker: OutboxProcessor
) -> None:
    await accounts.register("erin", "erin@example.com", "password1")
    await accounts.request_password_reset("erin@example.com")
    await worker.run_once()
    [message] = await world.outbox()
    token = _link_token(message.payload["text"])
    world.clock.advance(31 * 60)
    with pytest.raises(Invalid, match=r"^Password reset link has expired"):
        await accounts.reset_password(token, "password2")


async def test_search_leaves_out_the_caller(world: World, accounts: AccountService) -> None:
    me = await accounts.register("team_me", "me@example.com", "password1")
    mate = await accounts.register("team_mate", "mate@example.com", "password1")
    await accounts.register("other", "other@example.com", "password1")
    assert await accounts.search(me, "TEAM", 10) == [UserRef(mate.id, "team_mate")]

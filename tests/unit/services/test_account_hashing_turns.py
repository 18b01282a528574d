"""AccountService names who is asking whenever it hashes, so the hasher can take callers in turn:
a signed-in user's requests by the user, anonymous ones by the client's address."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from faros.adapters.security.argon2_hasher import Argon2PasswordHasher
from faros.adapters.security.jwt_issuer import JwtTokenIssuer
from faros.domain.errors import Invalid, InvalidCredentials
from faros.domain.services.accounts import AccountService

from .conftest import FRONTEND, World


class _NotingHasher(Argon2PasswordHasher):
    """The real hasher (cheap parameters), noting the caller each job was queued for."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.callers: list[str] = []

    async def hash(self, password: str, *, caller: str = "") -> str:
        self.callers.append(caller)
        return await super().hash(password, caller=caller)

    async def verify(self, hashed: str, password: str, *, caller: str = "") -> bool:
        self.callers.append(caller)
        return await super().verify(hashed, password, caller=caller)

    async def burn(self, password: str, *, caller: str = "") -> None:
        self.callers.append(caller)
        await super().burn(password, caller=caller)


@pytest.fixture
async def hasher() -> AsyncIterator[_NotingHasher]:
    noting = _NotingHasher()
    yield noting
    await noting.aclose()


@pytest.fixture
def accounts(world: World, hasher: _NotingHasher) -> AccountService:
    tokens = JwtTokenIssuer("test-secret-" + "x" * 32, 60, world.clock)
    return AccountService(world.uow, hasher, tokens, world.clock, FRONTEND)


async def test_each_hash_is_queued_for_who_asks(
    accounts: AccountService, hasher: _NotingHasher
) -> None:
    user = await accounts.register("frank", "frank@example.com", "password1", client="10.0.0.1")
    await accounts.login("frank", "password1", client="10.0.0.2")
    with pytest.raises(InvalidCredentials):
        await accounts.login("nobody", "password1", client="10.0.0.3")  # a burn, same turns
    with pytest.raises(Invalid):
        await accounts.change_password(user, "wrong", "password2")
    await accounts.change_password(user, "password1", "password2")
    with pytest.raises(Invalid):
        await accounts.reset_password("not-a-token", "password3", client="10.0.0.4")
    assert hasher.callers == [
        "ip_10.0.0.1",
        "ip_10.0.0.2",
        "ip_10.0.0.3",
        f"user_{user.id}",
        f"user_{user.id}",  # verify, then hash
        f"user_{user.id}",
        "ip_10.0.0.4",
    ]

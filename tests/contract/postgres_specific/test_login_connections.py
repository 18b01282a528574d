"""A login waiting for the password hasher holds no database connection.

Hashing is slow on purpose and queues under a login flood; a connection held through it would
be taken from every other request (with 8 queued logins, 8 of the pool's 10).
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.memory.clock import ManualClock
from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.adapters.security.argon2_hasher import Argon2PasswordHasher
from faros.adapters.security.jwt_issuer import JwtTokenIssuer
from faros.domain.errors import InvalidCredentials
from faros.domain.services.accounts import AccountService

from .helpers import NOW, driver_checked_out, unique

pytestmark = pytest.mark.postgres


class HeldHasher(Argon2PasswordHasher):
    """The real hasher (cheap parameters), whose checks wait until the test lets them go."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.waiting = asyncio.Event()
        self.release = asyncio.Event()

    async def verify(self, hashed: str, password: str, *, caller: str = "") -> bool:
        self.waiting.set()
        await self.release.wait()
        return await super().verify(hashed, password, caller=caller)

    async def burn(self, password: str, *, caller: str = "") -> None:
        self.waiting.set()
        await self.release.wait()
        await super().burn(password, caller=caller)


@pytest.mark.parametrize("known_user", [True, False])
async def test_a_login_waiting_for_the_hasher_holds_no_connection(
    own_engine: AsyncEngine, known_user: bool
) -> None:
    factory = PostgresUnitOfWorkFactory(own_engine, driver_pool_size=1)
    hasher = HeldHasher()
    clock = ManualClock(NOW)
    accounts = AccountService(
        factory, hasher, JwtTokenIssuer("s" * 40, 60, clock), clock, "https://faros.example"
    )
    name = unique()
    await accounts.register(name, f"{name}@example.com", "password1")
    login = asyncio.create_task(accounts.login(name if known_user else unique(), "password1"))
    try:
        await asyncio.wait_for(hasher.waiting.wait(), 10)
        assert driver_checked_out(own_engine) == 0
        # The pool's only connection is free for the next request meanwhile.
        async with factory() as uow:
            assert await asyncio.wait_for(uow.users.by_username(name), 5) is not None
    finally:
        hasher.release.set()
    if known_user:
        assert (await login).token
    else:
        with pytest.raises(InvalidCredentials):
            await login
    await factory.aclose()

"""Access tokens in each process's authentication cache: a revocation in one process empties
the others' caches (NOTIFY from migration 0006's trigger); recording a use does not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from faros.adapters.postgres.engine import create_engine
from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.domain.api_tokens import ApiToken, NewApiToken, new_secret, secret_hash

from .helpers import NOW, add_user

pytestmark = pytest.mark.postgres

CHANNEL = "faros_auth_changed"


@pytest.fixture
async def heard(database_url: str) -> AsyncIterator[list[str]]:
    """Every `faros_auth_changed` notification from now on."""
    payloads: list[str] = []
    connection = await asyncpg.connect(database_url)
    await connection.add_listener(CHANNEL, lambda *args: payloads.append(args[-1]))
    yield payloads
    await connection.close()


@pytest.fixture
async def factory(database_url: str) -> AsyncIterator[PostgresUnitOfWorkFactory]:
    engine = create_engine(database_url, pool_size=2)
    made = PostgresUnitOfWorkFactory(engine, cache_authentication=True)
    yield made
    await made.aclose()
    await engine.dispose()


async def _new_token(factory: PostgresUnitOfWorkFactory) -> ApiToken:
    async with factory() as uow:
        user = await add_user(uow)
        token = await uow.api_tokens.add(
            NewApiToken(
                user.id, "ci", ("tasks:read",), secret_hash(new_secret()), NOW, NOW + timedelta(1)
            )
        )
        await uow.commit()
    return token


async def _settle() -> None:
    await asyncio.sleep(0.3)  # a notification takes milliseconds


async def test_recording_a_use_does_not_notify_but_revoking_does(
    factory: PostgresUnitOfWorkFactory, heard: list[str]
) -> None:
    token = await _new_token(factory)
    await _settle()
    heard.clear()  # creating the user and the token: not this test's business
    async with factory() as uow:
        await uow.api_tokens.touch(token, NOW, NOW - timedelta(minutes=1))
        await uow.commit()
    await _settle()
    assert heard == []
    async with factory() as uow:
        assert await uow.api_tokens.revoke(token.user_id, token.id)
        await uow.commit()
    await _settle()
    assert heard == [""]


async def test_a_cached_token_follows_its_recorded_use_and_goes_with_a_revocation(
    factory: PostgresUnitOfWorkFactory,
) -> None:
    token = await _new_token(factory)
    cache = factory.auth_cache
    assert cache is not None
    async with asyncio.timeout(5):
        while cache.get_token(token.token_hash) is None:
            async with factory() as uow:
                await uow.api_tokens.holder(token.token_hash)
            await asyncio.sleep(0.01)
    async with factory() as uow:
        await uow.api_tokens.touch(token, NOW, NOW - timedelta(minutes=1))
    cached = cache.get_token(token.token_hash)
    assert cached is not None
    assert cached[1].last_used_at == NOW
    async with factory() as uow:
        await uow.api_tokens.revoke(token.user_id, token.id)
        await uow.commit()
    # Forgotten at once by the process that revoked it (the others hear the NOTIFY).
    assert cache.get_token(token.token_hash) is None
    async with factory() as uow:
        assert await uow.api_tokens.holder(token.token_hash) is None

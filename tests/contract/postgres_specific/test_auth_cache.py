"""Each process's cache of authenticated users forgets them when a user or the deny-list
changes: at once in the process that made the change, via NOTIFY in every other one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres.auth_cache import AuthCache
from faros.adapters.postgres.engine import create_engine
from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.domain.users import User

from .helpers import NOW, add_user

pytestmark = pytest.mark.postgres

NOTICE_SECONDS = 5.0  # a notification normally takes milliseconds


@pytest.fixture
async def two_processes(
    database_url: str,
) -> AsyncIterator[tuple[PostgresUnitOfWorkFactory, PostgresUnitOfWorkFactory]]:
    """Two units-of-work factories with caches of their own, as two workers would have."""
    engines = [create_engine(database_url, pool_size=2) for _ in range(2)]
    factories = [PostgresUnitOfWorkFactory(e, cache_authentication=True) for e in engines]
    yield factories[0], factories[1]
    for factory, engine in zip(factories, engines, strict=True):
        await factory.aclose()
        await engine.dispose()


def _cache(factory: PostgresUnitOfWorkFactory) -> AuthCache:
    cache = factory.auth_cache
    assert cache is not None
    return cache


async def _until(condition: Callable[[], bool], what: str) -> None:
    # What is awaited happens in another connection's callback: checked every 5 ms, bounded.
    async with asyncio.timeout(NOTICE_SECONDS):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)
    assert condition(), what


async def _holder(factory: PostgresUnitOfWorkFactory, user: User, jti: str) -> tuple[User, bool]:
    async with factory() as uow:
        found = await uow.users.token_holder(user.username, jti)
    assert found is not None
    return found


async def _cached(factory: PostgresUnitOfWorkFactory, user: User, jti: str) -> None:
    """Read until the cache is listening and holds the user (the first reads start it).

    Other tests running in parallel on the same database make the cache forget now and
    then (their changes notify too), so this reads again until the user is held.
    """
    cache = _cache(factory)

    def held() -> bool:
        return cache.get(user.username, jti) == user

    async with asyncio.timeout(NOTICE_SECONDS):
        while not held():
            await _holder(factory, user, jti)
            await asyncio.sleep(0.005)


async def _new_user(factory: PostgresUnitOfWorkFactory) -> User:
    async with factory() as uow:
        user = await add_user(uow)
        await uow.commit()
    return user


async def test_a_revocation_is_seen_at_once_here_and_soon_in_the_other_process(
    two_processes: tuple[PostgresUnitOfWorkFactory, PostgresUnitOfWorkFactory],
) -> None:
    here, there = two_processes
    user = await _new_user(here)
    await _cached(here, user, "jti-1")
    await _cached(there, user, "jti-1")

    async with here() as uow:
        await uow.revoked_tokens.add("jti-1", NOW + timedelta(days=1))
        await uow.commit()
    assert _cache(here).get(user.username, "jti-1") is None  # no waiting in this process
    assert await _holder(here, user, "jti-1") == (user, True)

    await _until(lambda: _cache(there).get(user.username, "jti-1") is None, "NOTIFY heard")
    assert await _holder(there, user, "jti-1") == (user, True)


async def test_any_change_to_users_is_heard_even_one_made_outside_faros(
    two_processes: tuple[PostgresUnitOfWorkFactory, PostgresUnitOfWorkFactory],
    engine: AsyncEngine,
) -> None:
    here, _ = two_processes
    user = await _new_user(here)
    await _cached(here, user, "jti-2")
    async with engine.begin() as connection:  # an operator in psql
        await connection.execute(
            text("UPDATE faros.users SET token_version = token_version + 1 WHERE id = :id"),
            {"id": user.id},
        )
    await _until(lambda: _cache(here).get(user.username, "jti-2") is None, "NOTIFY heard")
    found, revoked = await _holder(here, user, "jti-2")
    assert (found.token_version, revoked) == (user.token_version + 1, False)


async def test_a_lost_listening_connection_stops_the_cache_until_it_listens_again(
    two_processes: tuple[PostgresUnitOfWorkFactory, PostgresUnitOfWorkFactory],
    engine: AsyncEngine,
) -> None:
    here, _ = two_processes
    cache = _cache(here)
    user = await _new_user(here)
    await _cached(here, user, "jti-4")
    async with engine.begin() as connection:
        ended = await connection.execute(
            text("SELECT pg_terminate_backend(:pid)"), {"pid": cache.listener_pid}
        )
        assert ended.scalar_one() is True
    await _until(lambda: not cache._trusted, "the loss noticed")
    assert cache.get(user.username, "jti-4") is None  # nothing is served meanwhile
    await _until(lambda: cache._trusted, "listening again")
    await _cached(here, user, "jti-4")


async def test_a_read_that_raced_a_change_is_not_kept(
    two_processes: tuple[PostgresUnitOfWorkFactory, PostgresUnitOfWorkFactory],
) -> None:
    here, _ = two_processes
    cache = _cache(here)
    user = await _new_user(here)
    await _cached(here, user, "jti-5")
    # No await from here on: nothing else can run in between.
    generation = cache.generation
    cache.forget_all()  # a change lands between the read's start and its end
    cache.put(user.username, "jti-5", user, generation)
    assert cache.get(user.username, "jti-5") is None


async def test_callers_get_copies(
    two_processes: tuple[PostgresUnitOfWorkFactory, PostgresUnitOfWorkFactory],
) -> None:
    here, _ = two_processes
    cache = _cache(here)
    user = await _new_user(here)
    await _cached(here, user, "jti-6")
    # No await from here on: nothing else can run in between.
    cache.put(user.username, "jti-6", user, cache.generation)
    first = cache.get(user.username, "jti-6")
    assert first is not None
    first.email = "changed@example.com"
    assert cache.get(user.username, "jti-6") == user

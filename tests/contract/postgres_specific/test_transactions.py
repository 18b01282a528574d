"""The unit of work's transaction starts at the first write or lock, never for plain reads."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres.unit_of_work import PostgresUnitOfWork
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .helpers import add_task, add_user

pytestmark = pytest.mark.postgres


async def _backend_state(engine: AsyncEngine, uow: UnitOfWork) -> str:
    """What the server says the unit of work's session is doing, asked from another one."""
    assert isinstance(uow, PostgresUnitOfWork)
    assert uow._db is not None
    pid = (await uow._db.read(text("SELECT pg_backend_pid()"))).scalar_one()
    async with engine.connect() as observer:
        state = await observer.execute(
            text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        )
        return str(state.scalar_one())


async def test_reads_alone_open_no_transaction(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    async with uow_factory() as uow:
        await uow.users.by_username("nobody-with-this-name")
        await uow.tasks.get_with_share(1, 1)
        assert await _backend_state(engine, uow) == "idle"


async def test_a_write_or_a_lock_opens_the_transaction(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    async with uow_factory() as uow:
        await add_user(uow)
        assert await _backend_state(engine, uow) == "idle in transaction"
    async with uow_factory() as uow:
        await uow.tasks.get_with_share(1, 1, for_update=True)
        assert await _backend_state(engine, uow) == "idle in transaction"


async def test_commit_without_writes_is_harmless_and_reads_after_writes_see_them(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.users.search("x", 0, 1)
        await uow.commit()
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner)
        found = await uow.tasks.get_with_share(task.id, owner.id)
        assert found is not None
        assert found.task == task


async def test_pooled_connections_come_back_transactional(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    # The unit of work switches its connection to autocommit; the pool must undo that, or a
    # plain engine user would silently run without a transaction.
    for _ in range(3):
        async with uow_factory() as uow:
            await uow.users.get(1)
    connections = [await engine.connect() for _ in range(5)]  # every idle pooled one
    try:
        pids = [
            (await c.execute(text("SELECT pg_backend_pid()"))).scalar_one() for c in connections
        ]
        async with engine.connect() as observer:
            states = await observer.execute(
                text("SELECT state FROM pg_stat_activity WHERE pid = ANY(:pids)"),
                {"pids": pids},
            )
            assert set(states.scalars()) == {"idle in transaction"}
    finally:
        for connection in connections:
            await connection.close()

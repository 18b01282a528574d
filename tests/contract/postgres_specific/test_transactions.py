"""The unit of work's transaction starts at the first write or lock, never for plain reads."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres.query import Query
from faros.adapters.postgres.unit_of_work import PostgresUnitOfWork
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .helpers import add_task, add_user, unique

pytestmark = pytest.mark.postgres


_PID = Query(select(func.pg_backend_pid().label("pid")))


async def _pid(uow: UnitOfWork) -> int:
    assert isinstance(uow, PostgresUnitOfWork)
    assert uow._db is not None
    return int((await uow._db.execute(_PID))[0].pid)


async def _state(engine: AsyncEngine, pid: int) -> str:
    """What the server says a session is doing, asked from another one."""
    async with engine.connect() as observer:
        state = await observer.execute(
            text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        )
        return str(state.scalar_one())


async def _backend_state(engine: AsyncEngine, uow: UnitOfWork) -> str:
    return await _state(engine, await _pid(uow))


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


async def test_a_unit_of_work_left_without_commit_returns_its_connection_rolled_back(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    name = unique()
    async with uow_factory() as uow:
        await add_user(uow, name)
        pid = await _pid(uow)
    assert await _state(engine, pid) == "idle"
    async with uow_factory() as uow:
        assert await uow.users.by_username(name) is None

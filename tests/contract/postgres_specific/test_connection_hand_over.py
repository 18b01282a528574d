"""Within `handing_over()` (one bodiless request) a unit of work passes its connection on once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres.query import Query
from faros.adapters.postgres.unit_of_work import PostgresUnitOfWork, PostgresUnitOfWorkFactory

from .helpers import add_user, driver_checked_out, unique

pytestmark = pytest.mark.postgres


_PID = Query(select(func.pg_backend_pid().label("pid")))


async def _pid(uow: PostgresUnitOfWork) -> int:
    """The server process of the unit of work's driver connection (the one handed over)."""
    assert uow._db is not None
    return int((await uow._db.execute(_PID))[0].pid)


async def test_the_second_unit_of_work_takes_the_first_ones_connection(
    own_engine: AsyncEngine,
) -> None:
    factory = PostgresUnitOfWorkFactory(own_engine)
    async with factory.handing_over():
        async with factory() as first:
            first_pid = await _pid(first)
        assert driver_checked_out(own_engine) == 1  # kept for the next one
        async with factory() as second:
            assert await _pid(second) == first_pid
        assert driver_checked_out(own_engine) == 0  # handed over once, then returned
        async with factory() as third:  # a third one checks out as usual
            await _pid(third)
        assert driver_checked_out(own_engine) == 0
    assert driver_checked_out(own_engine) == 0


async def test_without_a_hand_over_every_unit_of_work_returns_its_connection(
    own_engine: AsyncEngine,
) -> None:
    factory = PostgresUnitOfWorkFactory(own_engine)
    async with factory() as uow:
        await _pid(uow)
    assert driver_checked_out(own_engine) == 0


async def test_the_block_returns_a_connection_nobody_took_over(own_engine: AsyncEngine) -> None:
    factory = PostgresUnitOfWorkFactory(own_engine)
    async with factory.handing_over():
        async with factory() as uow:
            await _pid(uow)
        assert driver_checked_out(own_engine) == 1
    assert driver_checked_out(own_engine) == 0


async def test_uncommitted_writes_are_rolled_back_before_the_hand_over(
    own_engine: AsyncEngine,
) -> None:
    factory = PostgresUnitOfWorkFactory(own_engine)
    name, kept = unique(), unique()
    async with factory.handing_over():
        async with factory() as first:
            first_pid = await _pid(first)
            await add_user(first, name)  # never committed
        async with factory() as second:
            assert await _pid(second) == first_pid
            assert await second.users.by_username(name) is None
            # and the next unit of work starts without a transaction, writes commit as usual
            await add_user(second, kept)
            await second.commit()
    async with factory() as check:
        assert await check.users.by_username(kept) is not None
        assert await check.users.by_username(name) is None


async def test_a_committed_write_is_seen_by_the_next_read_on_the_same_connection(
    own_engine: AsyncEngine,
) -> None:
    factory = PostgresUnitOfWorkFactory(own_engine)
    name = unique()
    async with factory.handing_over():
        async with factory() as first:
            user = await add_user(first, name)
            await first.commit()
        async with factory() as second:
            # before any write: outside any transaction
            assert await second.users.token_holder(name, "jti") == (user, False)
            assert second._db is not None
            assert not second._db._in_transaction


async def test_after_an_error_the_connection_is_not_handed_over(own_engine: AsyncEngine) -> None:
    factory = PostgresUnitOfWorkFactory(own_engine)
    async with factory.handing_over():
        try:
            async with factory() as first:
                await _pid(first)
                raise ZeroDivisionError
        except ZeroDivisionError:
            pass
        assert driver_checked_out(own_engine) == 0
        async with factory() as second:
            await _pid(second)
        assert driver_checked_out(own_engine) == 0
    assert driver_checked_out(own_engine) == 0


async def test_units_of_work_at_the_same_time_never_share_a_connection(
    own_engine: AsyncEngine,
) -> None:
    factory = PostgresUnitOfWorkFactory(own_engine)
    inside = asyncio.Event()

    async def hold() -> int:
        async with factory() as uow:
            pid = await _pid(uow)
            inside.set()
            await asyncio.sleep(0)  # let the other one enter while this one is busy
            await asyncio.sleep(0)
            return pid

    async def other() -> int:
        await inside.wait()
        async with factory() as uow:
            return await _pid(uow)

    async with factory.handing_over():
        first, second = await asyncio.gather(hold(), other())
    assert first != second
    assert driver_checked_out(own_engine) == 0


async def test_driver_connections_plan_their_statements_once(own_engine: AsyncEngine) -> None:
    factory = PostgresUnitOfWorkFactory(own_engine)
    mode = Query(select(func.current_setting("plan_cache_mode").label("mode")))
    async with factory() as uow:
        assert uow._db is not None
        [row] = await uow._db.execute(mode)
    assert row.mode == "force_generic_plan"

"""The driver pool against a real PostgreSQL: reuse, clean-up on release, replacement."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres.driver_pool import DriverPool

if TYPE_CHECKING:
    from faros.adapters.postgres.driver_pool import DriverConnection

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pool(own_engine: AsyncEngine) -> AsyncIterator[DriverPool]:
    pool = DriverPool(own_engine, 2)
    yield pool
    pool.terminate()


async def _pid(connection: DriverConnection) -> int:
    return int(await connection.fetchval("SELECT pg_backend_pid()"))


async def _until_closed(connection: DriverConnection) -> None:
    # The client learns of a server-side end when the event loop reads it off the socket.
    ended = asyncio.Event()
    connection.add_termination_listener(lambda *_: ended.set())
    if not connection.is_closed():
        async with asyncio.timeout(5):
            await ended.wait()


async def test_a_released_connection_is_lent_again(pool: DriverPool) -> None:
    first = await pool.acquire()
    pid = await _pid(first)
    assert pool.checked_out == 1
    await pool.release(first)
    assert pool.checked_out == 0
    again = await pool.acquire()
    assert await _pid(again) == pid
    await pool.release(again)


async def test_a_transaction_left_open_is_rolled_back_on_release(pool: DriverPool) -> None:
    connection = await pool.acquire()
    await connection.execute("BEGIN")
    await connection.execute("SET LOCAL statement_timeout = '1234ms'")
    await pool.release(connection)
    again = await pool.acquire()
    assert again is connection
    assert not again.is_in_transaction()
    assert await again.fetchval("SHOW statement_timeout") != "1234ms"
    await pool.release(again)


async def test_a_connection_the_server_ended_is_replaced(pool: DriverPool) -> None:
    connection = await pool.acquire()
    pid = await _pid(connection)
    await pool.release(connection)
    admin = await pool.connect()
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await _until_closed(connection)
    fresh = await pool.acquire()
    assert await _pid(fresh) != pid
    assert pool.checked_out == 1
    await pool.release(fresh)


async def test_an_idle_connection_past_its_time_is_replaced(own_engine: AsyncEngine) -> None:
    pool = DriverPool(own_engine, 2, max_idle_seconds=0.0)
    try:
        connection = await pool.acquire()
        pid = await _pid(connection)
        await pool.release(connection)
        fresh = await pool.acquire()
        assert await _pid(fresh) != pid
        assert connection.is_closed()
        await pool.release(fresh)
    finally:
        pool.terminate()


async def test_a_cancelled_release_drops_the_connection_and_frees_its_place(
    own_engine: AsyncEngine,
) -> None:
    pool = DriverPool(own_engine, 1)
    try:
        connection = await pool.acquire()
        await connection.execute("BEGIN")
        releasing = asyncio.create_task(pool.release(connection))
        await asyncio.sleep(0)  # the release is now waiting for its ROLLBACK
        releasing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await releasing
        assert connection.is_closed()  # its state was unknown: not lent again
        async with asyncio.timeout(5):  # the one place was given back
            fresh = await pool.acquire()
        assert fresh is not connection
        await pool.release(fresh)
    finally:
        pool.terminate()


async def test_a_closed_pool_closes_its_idle_connections_and_lends_no_more(
    pool: DriverPool,
) -> None:
    lent = await pool.acquire()
    idle = await pool.acquire()
    await pool.release(idle)
    await pool.close()
    assert idle.is_closed()
    await pool.release(lent)  # in use at close: dropped when it comes back
    assert lent.is_closed()
    assert pool.checked_out == 0
    with pytest.raises(asyncpg.InterfaceError):
        await pool.acquire()


async def test_a_terminated_pool_drops_its_connections_and_makes_new_ones(
    pool: DriverPool,
) -> None:
    # What disposing the engine does: a database restart leaves the application running.
    connection = await pool.acquire()
    pid = await _pid(connection)
    await pool.release(connection)
    pool.terminate()
    assert connection.is_closed()
    fresh = await pool.acquire()
    assert await _pid(fresh) != pid
    await pool.release(fresh)
    assert pool.checked_out == 0

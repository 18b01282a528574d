"""asyncpg's own pool, for the reads that run straight on the driver (`Database.fetch`).

Checking a connection out of SQLAlchemy's pool and back costs about 80 µs of CPU per unit of
work (three greenlet switches, pool events, reset-on-return bookkeeping); asyncpg's pool does
the same in about 15 (bench/README.md). Read-only units of work, most requests, only ever use
this pool. Connections are made exactly as the engine makes its own (same URL, timeouts and
server settings) and decode JSON the way SQLAlchemy's connections do.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, Final, TypeAlias
from weakref import WeakKeyDictionary

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres._gate import FairGate
from faros.adapters.postgres.engine import (
    POOL_TIMEOUT_SECONDS,
    driver_connect_kwargs,
)

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    # Generic only in asyncpg's stubs, not at run time.
    DriverConnection: TypeAlias = PoolConnectionProxy[asyncpg.Record]

# SQLAlchemy's own connect arguments, which asyncpg.connect() does not know.
_SQLALCHEMY_ONLY: Final = frozenset(
    {"prepared_statement_cache_size", "prepared_statement_name_func", "async_creator_fn"}
)
# Idle connections beyond this are closed (and made again when needed): firewalls and proxies
# silently drop long-idle TCP connections.
MAX_IDLE_SECONDS: Final = 300.0


async def _json_codecs(connection: asyncpg.Connection) -> None:
    """json and jsonb exactly as SQLAlchemy's asyncpg dialect sets them up on its connections:
    values arrive as JSON text (SQLAlchemy's bind processing, `RawQuery.arguments`) and are
    decoded to Python on the way out, so a statement means the same on either pool."""
    await connection.set_type_codec(
        "json",
        encoder=str.encode,
        decoder=lambda raw: json.loads(raw.decode()),
        schema="pg_catalog",
        format="binary",
    )
    await connection.set_type_codec(
        "jsonb",
        encoder=lambda text: b"\x01" + text.encode(),  # jsonb's binary format version byte
        decoder=lambda raw: json.loads(raw[1:].decode()),
        schema="pg_catalog",
        format="binary",
    )


async def _end_open_transaction(connection: asyncpg.Connection) -> None:
    """On release: these connections run in autocommit, so usually there is nothing to do.

    asyncpg's default reset (`RESET ALL`, `UNLISTEN *`, ...) would cost a round trip on every
    release; only a transaction left open (a statement cancelled mid-way) needs undoing.
    """
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


class DriverPool:
    def __init__(self, engine: AsyncEngine, size: int) -> None:
        _, params = engine.dialect.create_connect_args(engine.url)
        connect: dict[str, Any] = {k: v for k, v in params.items() if k not in _SQLALCHEMY_ONLY}
        connect.update(driver_connect_kwargs(engine.url))
        # Every statement here looks rows up by a user's or a task's id, so one generic plan
        # per prepared statement serves all values. PostgreSQL's default (`auto`) kept planning
        # the list queries afresh on every execution (a custom plan each time: 0.2 ms of the
        # server's CPU for the first page, 0.7 ms for a filtered list, more than running it);
        # forcing the generic plan took the filtered list from ~900 to ~1,450 req/s and the
        # first page from ~1,430 to ~1,930 (bench/README.md).
        connect["server_settings"] = {
            **connect["server_settings"],
            "plan_cache_mode": "force_generic_plan",
        }
        self._connect_kwargs = connect
        self._size = size
        # Made on first use: asyncpg binds a pool to the event loop running when it is made,
        # and the factory that owns this one may be built before any loop runs.
        self._pool: asyncpg.Pool | None = None
        self._gate = FairGate(size)
        self._starting = asyncio.Lock()

    async def _started_pool(self) -> asyncpg.Pool:
        async with self._starting:
            if self._pool is None:
                pool = asyncpg.create_pool(
                    min_size=0,
                    max_size=self._size,
                    max_inactive_connection_lifetime=MAX_IDLE_SECONDS,
                    init=_json_codecs,
                    reset=_end_open_transaction,
                    **self._connect_kwargs,
                )
                await pool  # min_size 0: no connection is made here
                self._pool = pool
            return self._pool

    async def acquire(self) -> DriverConnection:
        pool = self._pool if self._pool is not None else await self._started_pool()
        await self._gate.enter()
        try:
            connection: DriverConnection = await pool.acquire(timeout=POOL_TIMEOUT_SECONDS)
        except BaseException:
            self._gate.leave()
            raise
        return connection

    async def connect(self) -> asyncpg.Connection:
        """A connection of its own (not pooled), made like the pool's, e.g. for LISTEN."""
        connection: asyncpg.Connection = await asyncpg.connect(**self._connect_kwargs)
        return connection

    async def release(self, connection: DriverConnection) -> None:
        assert self._pool is not None  # a connection came from it  # noqa: S101
        try:
            await self._pool.release(connection)
        finally:
            self._gate.leave()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    def terminate(self) -> None:
        if self._pool is not None:
            self._pool.terminate()


_pools: WeakKeyDictionary[Engine, DriverPool] = WeakKeyDictionary()


def driver_pool(engine: AsyncEngine, size: int) -> DriverPool:
    """The driver pool beside `engine` (one per engine), closed when the engine is disposed."""
    existing = _pools.get(engine.sync_engine)
    if existing is not None:
        return existing
    pool = DriverPool(engine, size)
    _pools[engine.sync_engine] = pool
    # `dispose()` is synchronous from the event's point of view: terminate (no goodbye to the
    # server). The application closes its pool gracefully before disposing (bootstrap.py).
    event.listen(engine.sync_engine, "engine_disposed", lambda _: pool.terminate())
    return pool

"""A lean pool of asyncpg connections, one per unit of work (`Database`).

Checking a connection out of SQLAlchemy's pool and back (greenlet switches, pool events,
reset-on-return bookkeeping) or asyncpg's own (a timeout context on each check-out, a proxy
object, a shielded task for every release) costs more CPU than a statement's round trip
(bench/README.md, round 4). So this pool is kept to what units of work need: a `FairGate` in
front (first come, first served, with the check-out timeout) and a stack of idle connections
behind it; a connection is made when none is idle, one found closed (a server restart) or idle
too long is dropped, and one left inside a transaction is rolled back on its way back.
Connections are made exactly as the engine makes its own (same URL, timeouts and server
settings) and decode JSON the way SQLAlchemy's connections do.
"""

from __future__ import annotations

import json
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Final, TypeAlias
from weakref import WeakKeyDictionary

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres.engine import driver_connect_kwargs
from faros.adapters.postgres.fair_gate import FairGate

if TYPE_CHECKING:
    # Generic only in asyncpg's stubs, not at run time.
    DriverConnection: TypeAlias = asyncpg.Connection[asyncpg.Record]

# SQLAlchemy's own connect arguments, which asyncpg.connect() does not know.
_SQLALCHEMY_ONLY: Final = frozenset(
    {"prepared_statement_cache_size", "prepared_statement_name_func", "async_creator_fn"}
)
# Idle connections beyond this are closed (and made again when needed): firewalls and proxies
# silently drop long-idle TCP connections.
MAX_IDLE_SECONDS: Final = 300.0


async def _json_codecs(connection: asyncpg.Connection) -> None:
    """json and jsonb exactly as SQLAlchemy's asyncpg dialect sets them up on its connections:
    values arrive as JSON text (SQLAlchemy's bind processing, `Query.arguments`) and are
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


class DriverPool:
    def __init__(
        self, engine: AsyncEngine, size: int, *, max_idle_seconds: float = MAX_IDLE_SECONDS
    ) -> None:
        _, params = engine.dialect.create_connect_args(engine.url)
        connect: dict[str, Any] = {k: v for k, v in params.items() if k not in _SQLALCHEMY_ONLY}
        connect.update(driver_connect_kwargs(engine.url))
        # Nearly every statement looks rows up by a user's or a task's id, so one generic plan
        # per prepared statement serves all values. PostgreSQL's default (`auto`) kept planning
        # the list queries afresh on every execution, which cost the server more than running
        # them (bench/README.md).
        connect["server_settings"] = {
            **connect["server_settings"],
            "plan_cache_mode": "force_generic_plan",
        }
        self._connect_kwargs = connect
        self._max_idle_seconds = max_idle_seconds
        self._gate = FairGate(size)
        # Most recently released last: the connections in use stay few and warm, and the
        # oldest idle one is the first to expire.
        self._idle: deque[tuple[DriverConnection, float]] = deque()
        self._open: set[DriverConnection] = set()
        self._closing = False

    @property
    def checked_out(self) -> int:
        """Connections lent out now (for tests and operators)."""
        return len(self._open) - len(self._idle)

    async def acquire(self) -> DriverConnection:
        await self._gate.enter()
        try:
            return await self._take()
        except BaseException:
            self._gate.leave()
            raise

    async def _take(self) -> DriverConnection:
        if self._closing:
            raise asyncpg.InterfaceError("the driver pool is closing")
        now = time.monotonic()
        while self._idle:
            connection, released = self._idle.pop()
            if connection.is_closed() or now - released > self._max_idle_seconds:
                self._drop(connection)
                continue
            return connection
        connection = await self.connect()
        self._open.add(connection)
        return connection

    async def connect(self) -> DriverConnection:
        """A connection of its own (not pooled), made like the pool's, e.g. for LISTEN."""
        connection: DriverConnection = await asyncpg.connect(**self._connect_kwargs)
        try:
            await _json_codecs(connection)
        except BaseException:
            connection.terminate()
            raise
        return connection

    async def release(self, connection: DriverConnection) -> None:
        try:
            if connection.is_closed() or self._closing:
                self._drop(connection)
                return
            if connection.is_in_transaction():
                # A statement cancelled mid-way; autocommit otherwise, so usually nothing to do.
                await connection.execute("ROLLBACK")
            self._idle.append((connection, time.monotonic()))
            self._expire_oldest()
        except BaseException:
            # Cancelled or failed on the way back: its state is unknown, so it is not reused.
            self._drop(connection)
            raise
        finally:
            self._gate.leave()

    def _expire_oldest(self) -> None:
        # One look per release keeps idle connections from outliving MAX_IDLE_SECONDS by much
        # while the pool is used, without a timer of its own.
        if len(self._idle) > 1:
            connection, released = self._idle[0]
            if time.monotonic() - released > self._max_idle_seconds:
                self._idle.popleft()
                self._drop(connection)

    def _drop(self, connection: DriverConnection) -> None:
        self._open.discard(connection)
        if not connection.is_closed():
            connection.terminate()

    async def close(self) -> None:
        """Close the idle connections politely; those in use are dropped as they come back."""
        self._closing = True
        idle = [connection for connection, _ in self._idle]
        self._idle.clear()
        for connection in idle:
            self._open.discard(connection)
            try:
                await connection.close(timeout=5)
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                connection.terminate()

    def terminate(self) -> None:
        """Drop every connection at once, with no goodbye to the server; like the engine's pool
        after `dispose()`, the pool stays usable and makes new connections on demand."""
        self._idle.clear()
        for connection in list(self._open):
            self._drop(connection)


_pools: WeakKeyDictionary[Engine, DriverPool] = WeakKeyDictionary()


def driver_pool(engine: AsyncEngine, size: int) -> DriverPool:
    """The driver pool beside `engine` (one per engine), emptied when the engine is disposed."""
    existing = _pools.get(engine.sync_engine)
    if existing is not None:
        return existing
    pool = DriverPool(engine, size)
    _pools[engine.sync_engine] = pool
    # `dispose()` is synchronous from the event's point of view: terminate (no goodbye to the
    # server). The application closes its pool gracefully before disposing (bootstrap.py).
    event.listen(engine.sync_engine, "engine_disposed", lambda _: pool.terminate())
    return pool

"""The PostgreSQL unit of work: one pooled connection, one transaction, every repository."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres._gate import FairGate
from faros.adapters.postgres._sql import Connections, Database, autocommit
from faros.adapters.postgres.activity import PostgresActivityRepository
from faros.adapters.postgres.auth_cache import AuthCache
from faros.adapters.postgres.collaboration import (
    PostgresCommentRepository,
    PostgresShareRepository,
)
from faros.adapters.postgres.driver_pool import driver_pool
from faros.adapters.postgres.files import PostgresFileRepository
from faros.adapters.postgres.outbox import PostgresOutboxRepository
from faros.adapters.postgres.preferences import PostgresPreferencesRepository
from faros.adapters.postgres.tasks import PostgresTaskRepository
from faros.adapters.postgres.users import (
    PostgresRevokedTokenRepository,
    PostgresUserRepository,
)
from faros.ports.activity_repository import ActivityRepository
from faros.ports.collaboration_repositories import CommentRepository, ShareRepository
from faros.ports.file_repository import FileRepository
from faros.ports.outbox_repository import OutboxRepository
from faros.ports.preferences_repository import PreferencesRepository
from faros.ports.task_repository import TaskRepository
from faros.ports.user_repository import RevokedTokenRepository, UserRepository

logger = logging.getLogger("faros.postgres")

# Connections of the driver's pool (read-only units of work) per engine; SQLAlchemy's pool
# keeps its own (engine.py). One worker rarely has more than a few reads waiting on the server.
DRIVER_POOL_SIZE = 10


class _HandOver:
    """A connection kept from one unit of work for the next one in the same request.

    An authenticated request runs two units of work back to back (the caller's token, then
    the handler's use case). Handing the first one's connection to the second saves a pool
    check-out and check-in and the connection's set-up. It is handed over once, never held
    after the second unit of work (a file download then streams without a connection), and
    never shared by two units of work at the same time.
    """

    __slots__ = ("busy", "db", "ended", "uses_left")

    def __init__(self) -> None:
        self.db: Database | None = None
        self.busy = False
        self.uses_left = 2
        self.ended = False

    def available(self) -> bool:
        return not (self.busy or self.ended) and self.uses_left > 0


_hand_over: ContextVar[_HandOver | None] = ContextVar("faros_connection_hand_over", default=None)


class PostgresUnitOfWork:
    """Leaving the block without `commit()` rolls back; the connection always goes back.

    A database that cannot be reached raises `DatabaseUnavailable` (a `ServiceUnavailable`)
    from any statement or the commit: connections are checked out at the first statement.

    The transaction itself starts lazily, at the first write or row lock (see `Database`), so
    a read-only unit of work costs only its own statements.
    """

    # Declared as the ports (Protocol attributes are invariant): this also makes mypy check
    # that every repository below fulfils its port.
    users: UserRepository
    revoked_tokens: RevokedTokenRepository
    tasks: TaskRepository
    shares: ShareRepository
    comments: CommentRepository
    files: FileRepository
    activity: ActivityRepository
    preferences: PreferencesRepository
    outbox: OutboxRepository

    def __init__(self, sources: Connections) -> None:
        self._sources = sources
        self._db: Database | None = None
        self._hand_over: _HandOver | None = None

    async def __aenter__(self) -> Self:
        if self._db is not None:
            raise RuntimeError("a unit of work cannot be entered twice")
        hand_over = _hand_over.get()
        if hand_over is not None and hand_over.available():
            if hand_over.db is None:
                hand_over.db = Database(self._sources)
            hand_over.busy = True
            self._hand_over = hand_over
            db = hand_over.db
        else:
            db = Database(self._sources)
        self._db = db
        self.users = PostgresUserRepository(db)
        self.revoked_tokens = PostgresRevokedTokenRepository(db)
        self.tasks = PostgresTaskRepository(db)
        self.shares = PostgresShareRepository(db)
        self.comments = PostgresCommentRepository(db)
        self.files = PostgresFileRepository(db)
        self.activity = PostgresActivityRepository(db)
        self.preferences = PostgresPreferencesRepository(db)
        self.outbox = PostgresOutboxRepository(db)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        db, self._db = self._db, None
        hand_over, self._hand_over = self._hand_over, None
        if db is None:
            return
        if hand_over is not None:
            hand_over.busy = False
            hand_over.uses_left -= 1
            # After an error the connection may be broken or mid-transaction: not kept.
            if exc is None and hand_over.uses_left > 0 and not hand_over.ended:
                try:
                    await db.reset()
                except Exception:
                    logger.debug("a connection could not be reset; not handed over", exc_info=True)
                else:
                    return
            hand_over.db = None
        # Closing rolls back anything uncommitted, then returns the connection.
        await db.close()

    async def commit(self) -> None:
        if self._db is None:
            raise RuntimeError("commit() outside the unit of work's block")
        await self._db.commit()


class PostgresUnitOfWorkFactory:
    """A `UnitOfWorkFactory`: each call is a fresh unit of work on the shared engine."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        driver_pool_size: int = DRIVER_POOL_SIZE,
        cache_authentication: bool = False,
    ) -> None:
        """`cache_authentication`: keep recently authenticated users in the process (see
        auth_cache.py); needs the LISTEN connection that comes with it."""
        pool = driver_pool(engine, driver_pool_size)
        self.connections = Connections(
            engine=engine,
            # Made once: each `execution_options()` call builds a new engine proxy.
            reading=autocommit(engine),
            driver_pool=pool,
            # As many as SQLAlchemy's pool holds, less one for the outbox worker and the
            # health probe, which use the engine directly.
            gate=FairGate(max(1, engine.pool.size() - 1)),  # type: ignore[attr-defined]
            auth_cache=AuthCache(pool.connect) if cache_authentication else None,
        )

    def __call__(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self.connections)

    async def aclose(self) -> None:
        """Close the driver pool's connections (the engine's are closed by `dispose()`)."""
        if self.connections.auth_cache is not None:
            await self.connections.auth_cache.aclose()
        await self.connections.driver_pool.close()

    @asynccontextmanager
    async def handing_over(self) -> AsyncIterator[None]:
        """Within this block (one request), a unit of work passes its connection to the next.

        Only for requests that read no body: one that does could keep a connection idle while
        a slow client trickles its upload in.
        """
        hand_over = _HandOver()
        token = _hand_over.set(hand_over)
        try:
            yield
        finally:
            _hand_over.reset(token)
            hand_over.ended = True
            # Busy: a task started in this request is still in its unit of work, which will
            # return the connection itself when it leaves.
            if hand_over.db is not None and not hand_over.busy:
                db, hand_over.db = hand_over.db, None
                await db.close()

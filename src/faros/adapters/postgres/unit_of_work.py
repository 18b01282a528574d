"""The PostgreSQL unit of work: one pooled connection, one transaction, every repository."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres.activity import PostgresActivityRepository
from faros.adapters.postgres.api_tokens import PostgresApiTokenRepository
from faros.adapters.postgres.auth_cache import AuthCache
from faros.adapters.postgres.collaboration import (
    PostgresCommentRepository,
    PostgresShareRepository,
)
from faros.adapters.postgres.connection_hand_over import HAND_OVER, ConnectionHandOver
from faros.adapters.postgres.database import Database
from faros.adapters.postgres.driver_pool import DriverPool, driver_pool
from faros.adapters.postgres.files import PostgresFileRepository
from faros.adapters.postgres.idempotency import PostgresIdempotencyRepository
from faros.adapters.postgres.outbox import PostgresOutboxRepository
from faros.adapters.postgres.preferences import PostgresPreferencesRepository
from faros.adapters.postgres.tasks import PostgresTaskRepository
from faros.adapters.postgres.users import (
    PostgresRevokedTokenRepository,
    PostgresUserRepository,
)
from faros.adapters.postgres.webhooks import PostgresWebhookRepository
from faros.ports.activity_repository import ActivityRepository
from faros.ports.api_token_repository import ApiTokenRepository
from faros.ports.collaboration_repositories import CommentRepository, ShareRepository
from faros.ports.file_repository import FileRepository
from faros.ports.idempotency_repository import IdempotencyRepository
from faros.ports.outbox_repository import OutboxRepository
from faros.ports.preferences_repository import PreferencesRepository
from faros.ports.task_repository import TaskRepository
from faros.ports.user_repository import RevokedTokenRepository, UserRepository
from faros.ports.webhook_repository import WebhookRepository


class PostgresUnitOfWork:
    """Leaving the block without `commit()` rolls back; the connection always goes back.

    A database that cannot be reached raises `DatabaseUnavailable` from any statement or the
    commit: the connection is checked out at the first statement. The transaction itself
    starts at the first write or row lock (see `Database`), so a read-only unit of work costs
    only its own statements.
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
    api_tokens: ApiTokenRepository
    webhooks: WebhookRepository
    idempotency: IdempotencyRepository

    def __init__(self, pool: DriverPool, auth_cache: AuthCache | None) -> None:
        self._pool = pool
        self._auth_cache = auth_cache
        self._db: Database | None = None
        self._hand_over: ConnectionHandOver | None = None

    def _new_database(self) -> Database:
        return Database(self._pool, self._auth_cache)

    async def __aenter__(self) -> Self:
        if self._db is not None:
            raise RuntimeError("a unit of work cannot be entered twice")
        hand_over = HAND_OVER.get()
        db = None if hand_over is None else hand_over.lend(self._new_database)
        if db is None:
            db = self._new_database()
        else:
            self._hand_over = hand_over
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
        self.api_tokens = PostgresApiTokenRepository(db)
        self.webhooks = PostgresWebhookRepository(db)
        self.idempotency = PostgresIdempotencyRepository(db)
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
            await hand_over.take_back(db, failed=exc is not None)
        else:
            await db.close()  # rolls back anything uncommitted, returns the connection

    async def commit(self) -> None:
        if self._db is None:
            raise RuntimeError("commit() outside the unit of work's block")
        await self._db.commit()


class PostgresUnitOfWorkFactory:
    """A `UnitOfWorkFactory`: each call is a fresh unit of work on the engine's database."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        driver_pool_size: int | None = None,
        cache_authentication: bool = False,
    ) -> None:
        """`driver_pool_size`: connections for units of work, by default as many as the
        engine's pool holds (which then serves only the health probe and migrations).
        `cache_authentication`: keep recently authenticated users in the process (see
        auth_cache.py); needs the LISTEN connection that comes with it."""
        size = driver_pool_size or engine.pool.size()  # type: ignore[attr-defined]
        self.pool = driver_pool(engine, size)
        self.auth_cache = AuthCache(self.pool.connect) if cache_authentication else None

    def __call__(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self.pool, self.auth_cache)

    async def aclose(self) -> None:
        """Close the driver pool's connections (the engine's are closed by `dispose()`)."""
        if self.auth_cache is not None:
            await self.auth_cache.aclose()
        await self.pool.close()

    @asynccontextmanager
    async def handing_over(self) -> AsyncIterator[None]:
        """Within this block (one request), a unit of work passes its connection to the next.

        Only for requests that read no body: one that does could keep a connection idle while
        a slow client trickles its upload in.
        """
        hand_over = ConnectionHandOver()
        token = HAND_OVER.set(hand_over)
        try:
            yield
        finally:
            HAND_OVER.reset(token)
            await hand_over.end()

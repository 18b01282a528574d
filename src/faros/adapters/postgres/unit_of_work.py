"""The PostgreSQL unit of work: one pooled connection, one transaction, every repository."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres._sql import Database, is_connection_failure, raise_unavailable
from faros.adapters.postgres.activity import PostgresActivityRepository
from faros.adapters.postgres.collaboration import (
    PostgresCommentRepository,
    PostgresShareRepository,
)
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


class PostgresUnitOfWork:
    """Leaving the block without `commit()` rolls back; the connection always goes back.

    A database that cannot be reached raises `DatabaseUnavailable` (a `ServiceUnavailable`),
    from entering the block as from any statement or the commit inside it.

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

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._db: Database | None = None

    async def __aenter__(self) -> Self:
        if self._db is not None:
            raise RuntimeError("a unit of work cannot be entered twice")
        try:
            connection = await self._engine.connect()
        except Exception as error:
            # Refused, timed out, server starting up or shutting down, pool exhausted: the
            # request fails fast with 503 and the next one tries a fresh connection.
            if is_connection_failure(error):
                raise_unavailable(error)
            raise
        try:
            db = await Database.open(connection)
        except BaseException:
            await connection.close()
            raise
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
        if db is not None:
            # Closing rolls back anything uncommitted, then returns the connection.
            await db.close()

    async def commit(self) -> None:
        if self._db is None:
            raise RuntimeError("commit() outside the unit of work's block")
        await self._db.commit()


class PostgresUnitOfWorkFactory:
    """A `UnitOfWorkFactory`: each call is a fresh unit of work on the shared engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def __call__(self) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self._engine)

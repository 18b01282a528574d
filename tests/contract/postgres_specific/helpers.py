"""Builders and a statement counter for the PostgreSQL-specific checks.

The database is shared by the test session and by parallel workers: every name is random,
and rows that must be committed are ones no other test looks at.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres.database import Database
from faros.adapters.postgres.driver_pool import driver_pool
from faros.adapters.postgres.query import Query
from faros.domain.tasks import NewTask, Task
from faros.domain.users import NewUser, User
from faros.ports.unit_of_work import UnitOfWork

NOW = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)


def unique(prefix: str = "pg") -> str:
    return f"{prefix}{uuid.uuid4().hex[:16]}"


def driver_checked_out(engine: AsyncEngine) -> int:
    """Connections of `engine`'s driver pool in use."""
    return driver_pool(engine, 0).checked_out


async def add_user(uow: UnitOfWork, username: str | None = None) -> User:
    name = username or unique()
    return await uow.users.add(NewUser(name, f"{name}@example.com", "hash", NOW))


async def add_task(uow: UnitOfWork, owner: User, title: str = "task") -> Task:
    return await uow.tasks.add(NewTask(title, None, False, "medium", None, ["t"], owner.id, NOW))


@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements() -> Iterator[StatementLog]:
    """Every statement sent inside the block (BEGIN/COMMIT excluded): all go through
    `Database.execute`."""
    log = StatementLog()
    execute = Database.execute

    async def spied(self: Database, query: Query, params: Any = None) -> list[Any]:
        log.statements.append(query.sql)
        return await execute(self, query, params)

    Database.execute = spied  # type: ignore[method-assign]
    try:
        yield log
    finally:
        Database.execute = execute  # type: ignore[method-assign]

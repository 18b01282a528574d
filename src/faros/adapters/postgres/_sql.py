"""What every PostgreSQL repository shares: the unit of work's connection and value guards."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ARRAY, Integer, bindparam
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import BindParameter

# Every id column is a 32-bit `integer`; a larger value sent as a parameter fails to encode.
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
# OFFSET and LIMIT are bigint; clamp absurd page requests instead of failing on them.
BIGINT_SAFE = 2**62

LIKE_ESCAPE = "\\"


def ids_param(name: str) -> BindParameter[Any]:
    """An `integer[]` parameter, used as `= ANY(:name)`: one SQL text whatever the list size,
    so asyncpg prepares it once per connection (an expanding IN renders one text per size)."""
    return bindparam(name, type_=ARRAY(Integer))


def is_int32(value: int) -> bool:
    return INT32_MIN <= value <= INT32_MAX


def int32_ids(values: Iterable[int]) -> list[int]:
    """The values that can be ids, deduplicated, in ascending order."""
    return sorted({value for value in values if is_int32(value)})


def has_nul(text: str) -> bool:
    """PostgreSQL text cannot hold NUL: such a value matches nothing and must not be sent."""
    return "\x00" in text


def contains_pattern(text: str) -> str:
    """A LIKE pattern for "contains `text` literally" (D12: wildcards in user input escaped)."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def utc(value: datetime) -> datetime:
    # asyncpg already decodes timestamptz as UTC; this keeps the promise explicit and cheap.
    return value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def start_of_next_day(day: date) -> datetime | None:
    """Midnight UTC after `day`; None for the last representable date (no upper bound)."""
    if day == date.max:
        return None
    return start_of_day(day + timedelta(days=1))


class Database:
    """The unit of work's connection, shared by all its repositories.

    Statements run in autocommit mode until one needs the transaction (a write or a row lock):
    only then is the transaction begun. Under READ COMMITTED every statement takes its own
    snapshot anyway, so reads before the first write see exactly what they would inside the
    transaction, and a read-only unit of work saves the BEGIN and ROLLBACK round trips.
    """

    __slots__ = ("_connection", "_isolation_level", "_transactional")

    def __init__(self, connection: AsyncConnection, isolation_level: str) -> None:
        self._connection = connection
        self._isolation_level = isolation_level
        self._transactional = False

    @classmethod
    async def open(cls, connection: AsyncConnection) -> Database:
        # Changing the level is local to the pooled connection (no round trip); the pool sets
        # it back to the engine's default when the connection is returned.
        level = connection.dialect.default_isolation_level or "READ COMMITTED"
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        return cls(connection, level)

    async def begin(self) -> None:
        """Make every later statement part of one transaction (idempotent)."""
        if self._transactional:
            return
        # Close SQLAlchemy's bookkeeping transaction of the autocommit reads (no I/O: the
        # driver has nothing open), then switch level; asyncpg sends BEGIN right before the
        # next statement.
        await self._connection.rollback()
        await self._connection.execution_options(isolation_level=self._isolation_level)
        self._transactional = True

    async def read(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> CursorResult[Any]:
        return await self._connection.execute(statement, params)

    async def write(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> CursorResult[Any]:
        """Run a statement that changes rows or locks them, inside the transaction."""
        await self.begin()
        return await self._connection.execute(statement, params)

    async def commit(self) -> None:
        if self._transactional:
            await self._connection.commit()

    async def close(self) -> None:
        """Roll back whatever was not committed and return the connection to the pool."""
        await self._connection.close()

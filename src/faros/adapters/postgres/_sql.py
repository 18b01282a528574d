"""What every PostgreSQL repository shares: the unit of work's connection and value guards."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import TYPE_CHECKING, Any, Final, NoReturn

import asyncpg
import asyncpg.exceptions
from sqlalchemy import ARRAY, Integer, bindparam
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import BindParameter

from faros.adapters.postgres._gate import FairGate
from faros.adapters.postgres.auth_cache import AuthCache
from faros.adapters.postgres.driver_pool import DriverPool
from faros.adapters.postgres.raw_query import RawQuery
from faros.domain.errors import ServiceUnavailable

if TYPE_CHECKING:
    from faros.adapters.postgres.driver_pool import DriverConnection

logger = logging.getLogger("faros.postgres")

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
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def start_of_next_day(day: date) -> datetime | None:
    """Midnight UTC after `day`; None for the last representable date (no upper bound)."""
    if day == date.max:
        return None
    return start_of_day(day + timedelta(days=1))


# --------------------------------------------------------------------------- outages

DATABASE_UNAVAILABLE: Final = "Service temporarily unavailable"

# What a lost or unobtainable connection raises, wherever it surfaces (asyncpg itself, or
# wrapped by SQLAlchemy as `.orig` / `__cause__`). Constraint violations, syntax errors and
# the like are bugs or business errors and deliberately absent.
_CONNECTION_ERRORS: Final[tuple[type[BaseException], ...]] = (
    # Refused, reset, unreachable host, DNS failure; TimeoutError too (an OSError): the
    # connect and statement timeouts of `engine.create_engine`.
    OSError,
    asyncpg.exceptions.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.exceptions.ConnectionDoesNotExistError,  # closed under a running statement
    asyncpg.exceptions.CannotConnectNowError,  # 57P03: starting up, shutting down, recovering
    asyncpg.exceptions.AdminShutdownError,  # 57P01: pg_ctl stop, pg_terminate_backend
    asyncpg.exceptions.CrashShutdownError,  # 57P02: another backend crashed
    asyncpg.exceptions.TooManyConnectionsError,  # 53300: max_connections reached
    sa_exc.TimeoutError,  # no pooled connection freed up within the pool timeout
)


class DatabaseUnavailable(ServiceUnavailable):
    """PostgreSQL cannot be reached right now; the request may be retried shortly (503).

    Raised in place of the driver's connection errors, so the layers above see one error
    whatever the failure looked like (refused, reset, timed out, server shutting down).
    """

    def __init__(self) -> None:
        super().__init__(DATABASE_UNAVAILABLE)


def is_connection_failure(error: BaseException) -> bool:
    """Whether `error` means the database connection was lost or could not be had."""
    current: BaseException | None = error
    for _depth in range(8):  # causes are short chains; a bound guards against cycles
        if current is None:
            return False
        if isinstance(current, _CONNECTION_ERRORS):
            return True
        if isinstance(current, sa_exc.DBAPIError):
            if current.connection_invalidated:
                return True
            current = current.orig or current.__cause__
        else:
            current = current.__cause__
    return False


class _OutageLog:
    """One warning per interval while the database is away, not one per failed request.

    An outage under load fails hundreds of statements a second; each is answered (503) and
    shows in the request log anyway. Here they are only counted between two warnings.
    """

    def __init__(self, interval_seconds: float) -> None:
        self._interval = interval_seconds
        self._last = -interval_seconds
        self._unreported = 0

    def failure(self, error: BaseException) -> None:
        now = monotonic()
        if now - self._last < self._interval:
            self._unreported += 1
            return
        logger.warning(
            "database unavailable: %s: %s (%d more failures since the last report)",
            type(error).__name__,
            error,
            self._unreported,
        )
        self._last = now
        self._unreported = 0


_outage_log = _OutageLog(interval_seconds=5.0)


def raise_unavailable(error: BaseException) -> NoReturn:
    """Re-raise `error` as `DatabaseUnavailable`, its cause attached (and logged, throttled)."""
    _outage_log.failure(error)
    raise DatabaseUnavailable() from error


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The engine whose connections start in autocommit mode, for reads outside a transaction.

    Set at check-out (no round trip: asyncpg has no transaction open) and undone by the pool at
    check-in; one step cheaper than switching each connection after checking it out.
    """
    return engine.execution_options(isolation_level="AUTOCOMMIT")


@dataclass(frozen=True, slots=True)
class Connections:
    """Where every unit of work of one engine gets its connections; made once, by the factory.

    `engine` for transactions, `reading` (the same pool, autocommit) for SQLAlchemy reads
    outside one, `driver_pool` for the hot reads, `gate` in front of SQLAlchemy's pool (see
    `FairGate`), and the process's `auth_cache` when authentication is cached.
    """

    engine: AsyncEngine
    reading: AsyncEngine
    driver_pool: DriverPool
    gate: FairGate
    auth_cache: AuthCache | None


class Database:
    """The unit of work's connections, shared by all its repositories; each is made lazily.

    Statements run in autocommit mode until one needs the transaction (a write or a row lock):
    only then is the transaction begun. Under READ COMMITTED every statement takes its own
    snapshot anyway, so reads before the first write see exactly what they would inside the
    transaction, and a read-only unit of work saves the BEGIN and ROLLBACK round trips.

    The hottest reads (`fetch`) run on a connection of the driver's own pool; other statements
    on a SQLAlchemy connection, checked out at the first of them: in autocommit mode for a
    read, or straight into a transaction for a write. A read-only unit of work that only
    fetches never touches SQLAlchemy's pool.
    """

    __slots__ = (
        "_connection",
        "_driver",
        "_sources",
        "_transaction_started",
        "_transactional",
        "auth_changed",
        "prefetched",
    )

    def __init__(self, sources: Connections) -> None:
        self._sources = sources
        # Set by a write to users or the deny-list: the process forgets who it authenticated
        # when that commits (other processes hear PostgreSQL's NOTIFY; see auth_cache.py).
        self.auth_changed = False
        self._driver: DriverConnection | None = None
        self._connection: AsyncConnection | None = None
        self._transactional = False
        # True once SQLAlchemy has run a statement of the transaction: the server has the
        # transaction open, and statements sent on the driver connection below join it.
        self._transaction_started = False
        # What one repository read ahead for another in the same unit of work (a task's
        # comments and share count, fetched with the task: one round trip instead of two).
        # Emptied when the transaction begins and by every write of comments or shares, so
        # nothing read ahead can hide a change made in this unit of work.
        self.prefetched: dict[Any, Any] = {}

    @property
    def in_transaction(self) -> bool:
        return self._transactional

    @property
    def auth_cache(self) -> AuthCache | None:
        """Users authenticated recently, for reads outside a transaction only."""
        return None if self._transactional else self._sources.auth_cache

    async def _checked_out(self, engine: AsyncEngine) -> AsyncConnection:
        gate = self._sources.gate
        try:
            await gate.enter()
            try:
                connection = await engine.connect()
            except BaseException:
                gate.leave()
                raise
        except Exception as error:
            # Refused, timed out, server starting up or shutting down, pool exhausted: the
            # request fails fast with 503 and the next one tries a fresh connection.
            if is_connection_failure(error):
                raise_unavailable(error)
            raise
        self._connection = connection
        return connection

    async def _driver_connection(self) -> DriverConnection:
        if self._driver is None:
            try:
                self._driver = await self._sources.driver_pool.acquire()
            except Exception as error:
                if is_connection_failure(error):
                    raise_unavailable(error)
                raise
        return self._driver

    async def begin(self) -> None:
        """Make every later statement part of one transaction (idempotent)."""
        if self._transactional:
            return
        if self._connection is None:
            # A fresh connection of the plain engine: SQLAlchemy begins on the next statement.
            await self._checked_out(self._sources.engine)
        else:
            # After autocommit reads: close SQLAlchemy's bookkeeping transaction of those (no
            # I/O: the driver has nothing open), then switch level; asyncpg sends BEGIN right
            # before the next statement.
            await self._connection.rollback()
            level = self._connection.dialect.default_isolation_level or "READ COMMITTED"
            await self._connection.execution_options(isolation_level=level)
        self._transactional = True
        self.prefetched.clear()

    # A lost connection surfaces from `execute` or `commit` as whatever the driver raised;
    # each is turned into `DatabaseUnavailable` right here, so no caller has to know the
    # driver. try/except costs nothing on the path where no error is raised.

    async def read(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> CursorResult[Any]:
        connection = self._connection or await self._checked_out(self._sources.reading)
        try:
            result = await connection.execute(statement, params)
        except Exception as error:
            if is_connection_failure(error):
                raise_unavailable(error)
            raise
        self._transaction_started = self._transactional
        return result

    async def fetch(self, query: RawQuery, params: Mapping[str, Any]) -> list[Any]:
        """Rows of a read, on the driver (engine events do not see these): a connection of the
        driver's pool before the first write, the transaction's own connection after it."""
        if self._transactional:
            in_transaction = self._transaction_driver()
            if in_transaction is None:
                return list(await self.read(query.statement, params))
            return await self._on_driver(in_transaction, query, params)
        driver = self._driver or await self._driver_connection()
        return await self._on_driver(driver, query, params)

    async def run(self, query: RawQuery, params: Mapping[str, Any]) -> list[Any]:
        """A statement that changes or locks rows, in the transaction; its RETURNING rows.

        Straight on the driver connection under SQLAlchemy's, saving SQLAlchemy's execution
        layer (about 100 µs of CPU per statement); the transaction's first statement too, once
        SQLAlchemy's adapter has opened the transaction on the server.
        """
        await self.begin()
        driver = self._transaction_driver() or await self._open_transaction()
        if driver is None:
            result = await self.write(query.statement, params)
            return list(result) if result.returns_rows else []
        return await self._on_driver(driver, query, params)

    async def _open_transaction(self) -> Any:
        """BEGIN on the server, through SQLAlchemy's asyncpg adapter so that its commit and
        rollback stay in charge; the asyncpg connection, or None where the adapter cannot."""
        assert self._connection is not None  # begin() checked it out  # noqa: S101
        sync = self._connection.sync_connection
        if sync is None or sync.in_transaction():
            return None
        adapter = sync.connection.dbapi_connection
        # SQLAlchemy's adapter begins lazily, before its first statement; this is that step.
        start = getattr(adapter, "_start_transaction", None)
        if start is None:
            return None
        await self._connection.begin()  # SQLAlchemy's own bookkeeping: no I/O
        try:
            await start()
        except Exception as error:
            if is_connection_failure(error):
                raise_unavailable(error)
            raise
        driver = sync.connection.driver_connection
        if driver is None or not driver.is_in_transaction():
            return None  # the adapter did not begin (autocommit): SQLAlchemy's path decides
        self._transaction_started = True
        return driver

    def _transaction_driver(self) -> Any:
        """The asyncpg connection under the transaction's, once the transaction is open."""
        if not self._transaction_started or self._connection is None:
            return None
        sync = self._connection.sync_connection
        return None if sync is None else sync.connection.driver_connection

    async def _on_driver(
        self, driver: Any, query: RawQuery, params: Mapping[str, Any]
    ) -> list[Any]:
        try:
            records = await driver.fetch(query.sql, *query.arguments(params))
        except Exception as error:
            # Unlike SQLAlchemy, asyncpg does not flag a broken connection on its errors (a
            # dropped one raises a plain InterfaceError): a connection now closed is an outage.
            if is_connection_failure(error) or driver.is_closed():
                raise_unavailable(error)
            raise
        return query.rows(records)

    async def write(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> CursorResult[Any]:
        """Run a statement that changes rows or locks them, inside the transaction."""
        await self.begin()
        assert self._connection is not None  # begin() checked it out  # noqa: S101
        try:
            result = await self._connection.execute(statement, params)
        except Exception as error:
            if is_connection_failure(error):
                raise_unavailable(error)
            raise
        self._transaction_started = True
        return result

    async def commit(self) -> None:
        if not self._transactional or self._connection is None:
            return
        # Whatever follows a commit starts a new transaction, through SQLAlchemy again.
        self._transaction_started = False
        try:
            await self._connection.commit()
        except Exception as error:
            # The outcome is unknown (the COMMIT may have been applied before the connection
            # broke); 503 tells the client to check and retry, as for any other outage.
            if is_connection_failure(error):
                raise_unavailable(error)
            raise
        finally:
            # Also when the outcome is unknown: forgetting too much costs one read.
            cache = self._sources.auth_cache
            if self.auth_changed and cache is not None:
                cache.forget_all()

    async def reset(self) -> None:
        """Back to a fresh unit of work's state, keeping only the driver connection.

        For a connection handed from one unit of work to the next: the SQLAlchemy connection
        (with whatever was not committed) goes back to its pool, nothing prefetched is kept.
        """
        self.prefetched.clear()
        self._transactional = False
        self._transaction_started = False
        self.auth_changed = False
        await self._close_connection()

    async def close(self) -> None:
        """Roll back whatever was not committed and return the connections to their pools."""
        self.prefetched.clear()
        self._transactional = False
        self._transaction_started = False
        self.auth_changed = False
        try:
            await self._close_connection()
        finally:
            driver, self._driver = self._driver, None
            if driver is not None:
                await self._release(driver)

    async def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            await connection.close()
        except Exception as error:
            # A dead connection cannot roll back, but the server already discarded its open
            # transaction when the session ended; SQLAlchemy has dropped it from the pool.
            # Raising here would only hide the error the unit of work is leaving with.
            if not is_connection_failure(error):
                raise
            logger.debug("closing a lost database connection failed", exc_info=error)
        finally:
            self._sources.gate.leave()

    async def _release(self, driver: DriverConnection) -> None:
        try:
            await self._sources.driver_pool.release(driver)
        except Exception as error:
            # As above: the pool dropped the broken connection and will make a new one.
            if not (is_connection_failure(error) or driver.is_closed()):
                raise
            logger.debug("releasing a lost database connection failed", exc_info=error)

"""The unit of work's connection and the one way a statement runs on it (`Database.execute`).

Statements are SQLAlchemy Core, compiled once (`Query`) and run on an asyncpg connection of
the driver pool: SQLAlchemy's execution layer would cost more CPU than most statements take
on the server (bench/README.md). Lost or unobtainable connections surface as the domain's
`DatabaseUnavailable`, so no layer above has to know the driver.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from time import monotonic
from typing import TYPE_CHECKING, Any, Final, NoReturn

import asyncpg.exceptions

from faros.adapters.postgres.auth_cache import AuthCache
from faros.adapters.postgres.driver_pool import DriverPool
from faros.adapters.postgres.query import Query
from faros.domain.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from faros.adapters.postgres.driver_pool import DriverConnection

logger = logging.getLogger("faros.postgres")


# --------------------------------------------------------------------------- outages

# What a lost or unobtainable connection raises. Constraint violations, syntax errors and the
# like are bugs or business errors and deliberately absent.
_CONNECTION_ERRORS: Final[tuple[type[BaseException], ...]] = (
    # Refused, reset, unreachable host, DNS failure; TimeoutError too (an OSError): the
    # connect and statement timeouts of `engine.driver_connect_kwargs`, the pool's wait.
    OSError,
    asyncpg.exceptions.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.exceptions.ConnectionDoesNotExistError,  # closed under a running statement
    asyncpg.exceptions.CannotConnectNowError,  # 57P03: starting up, shutting down, recovering
    asyncpg.exceptions.AdminShutdownError,  # 57P01: pg_ctl stop, pg_terminate_backend
    asyncpg.exceptions.CrashShutdownError,  # 57P02: another backend crashed
    asyncpg.exceptions.TooManyConnectionsError,  # 53300: max_connections reached
)


def is_connection_failure(error: BaseException) -> bool:
    """Whether `error` (or one of its causes) means the connection was lost or not had."""
    current: BaseException | None = error
    for _depth in range(8):  # causes are short chains; a bound guards against cycles
        if current is None:
            return False
        if isinstance(current, _CONNECTION_ERRORS):
            return True
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


# --------------------------------------------------------------------------- the connection


class Database:
    """The unit of work's connection, shared by all its repositories, checked out at the
    first statement and returned by `close`.

    Statements run in autocommit mode until the first one that must be in the transaction
    (`Query.transactional`: a write or a row lock); BEGIN goes out right before it. Under READ
    COMMITTED every statement takes its own snapshot anyway, so reads before the first write
    see exactly what they would inside the transaction, and a read-only unit of work saves
    the BEGIN and ROLLBACK round trips.
    """

    __slots__ = ("_auth_cache", "_connection", "_in_transaction", "_pool", "auth_changed")

    def __init__(self, pool: DriverPool, auth_cache: AuthCache | None = None) -> None:
        self._pool = pool
        self._auth_cache = auth_cache
        self._connection: DriverConnection | None = None
        self._in_transaction = False
        # Set by a write to users or the deny-list: the process forgets who it authenticated
        # when that commits (other processes hear PostgreSQL's NOTIFY; see auth_cache.py).
        self.auth_changed = False

    @property
    def auth_cache(self) -> AuthCache | None:
        """Users authenticated recently, for reads outside a transaction only."""
        return None if self._in_transaction else self._auth_cache

    async def execute(self, query: Query, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Run `query` with `params`; its rows (readable as `row.column`), RETURNING's too."""
        connection = self._connection or await self._check_out()
        if query.transactional and not self._in_transaction:
            await self._send(connection, "BEGIN")
            self._in_transaction = True
        try:
            records = await connection.fetch(query.sql, *query.arguments(params or {}))
        except Exception as error:
            self._raise_outage(connection, error)
            raise
        return query.rows(records)

    async def commit(self) -> None:
        if not self._in_transaction or self._connection is None:
            return
        self._in_transaction = False
        try:
            # The outcome of a COMMIT cut off is unknown (it may have been applied); 503 tells
            # the client to check and retry, as for any other outage.
            await self._send(self._connection, "COMMIT")
        finally:
            # Also when the outcome is unknown: forgetting too much costs one read.
            if self.auth_changed and self._auth_cache is not None:
                self._auth_cache.forget_all()

    async def reset(self) -> None:
        """Back to a fresh unit of work's state, keeping the connection for the next one
        (connection_hand_over.py): whatever was not committed is rolled back."""
        self.auth_changed = False
        self._in_transaction = False
        if self._connection is not None and self._connection.is_in_transaction():
            await self._send(self._connection, "ROLLBACK")

    async def close(self) -> None:
        """Return the connection to the pool, which rolls back whatever was not committed."""
        self.auth_changed = False
        self._in_transaction = False
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            await self._pool.release(connection)
        except Exception as error:
            # A dead connection cannot roll back, but the server already discarded its open
            # transaction when the session ended, and the pool dropped it. Raising here would
            # only hide the error the unit of work is leaving with.
            if not (is_connection_failure(error) or connection.is_closed()):
                raise
            logger.debug("releasing a lost database connection failed", exc_info=error)

    async def _check_out(self) -> DriverConnection:
        try:
            self._connection = await self._pool.acquire()
        except Exception as error:
            # Refused, timed out, server starting up or shutting down, pool exhausted: the
            # request fails fast with 503 and the next one tries a fresh connection.
            if is_connection_failure(error):
                raise_unavailable(error)
            raise
        return self._connection

    async def _send(self, connection: DriverConnection, command: str) -> None:
        try:
            await connection.execute(command)
        except Exception as error:
            self._raise_outage(connection, error)
            raise

    @staticmethod
    def _raise_outage(connection: DriverConnection, error: Exception) -> None:
        # asyncpg does not flag a broken connection on its errors (a dropped one raises a
        # plain InterfaceError): a connection now closed is an outage too.
        if is_connection_failure(error) or connection.is_closed():
            raise_unavailable(error)

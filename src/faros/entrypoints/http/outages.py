"""A database that cannot be reached answers 503 with `Retry-After`, never a 500 or a hang.

The PostgreSQL adapter turns lost and unobtainable connections into `DatabaseUnavailable`
wherever they surface in a unit of work. The handlers below answer that error, and — as a
safety net for any path that reaches the driver otherwise — the driver's own connection
errors, with::

    503 {"detail": "Service temporarily unavailable"}   Retry-After: 5

Merge into the app's handler map: ``{**exception_handlers(), **outage_handlers()}``. Litestar
picks a handler by walking the exception's MRO, so `DatabaseUnavailable` is answered here and
not by the generic `ServiceUnavailable` handler of `errors.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

import asyncpg.exceptions
from litestar import Request, Response
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy import exc as sa_exc

from faros.adapters.postgres._sql import (
    DATABASE_UNAVAILABLE,
    DatabaseUnavailable,
    is_connection_failure,
)
from faros.entrypoints.http.errors import exception_handlers, json_error

__all__ = ["RETRY_AFTER_SECONDS", "outage_handlers", "unavailable_response"]

logger = logging.getLogger("faros.http")

AnyRequest = Request[Any, Any, Any]
Handler = Callable[[AnyRequest, Any], Response[Any]]

# A PostgreSQL restart takes a few seconds; the pool reconnects on the first request after.
RETRY_AFTER_SECONDS: Final = 5


def unavailable_response() -> Response[Any]:
    return json_error(
        {"detail": DATABASE_UNAVAILABLE},
        HTTP_503_SERVICE_UNAVAILABLE,
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _database_unavailable(_: AnyRequest, exc: DatabaseUnavailable) -> Response[Any]:
    # Not logged per request: the adapter reports the outage (throttled) and the request log
    # records every 503.
    return unavailable_response()


def _driver_connection_error(request: AnyRequest, exc: Exception) -> Response[Any]:
    """A connection error of the driver that bypassed the unit of work's translation."""
    logger.warning(
        "503 on %s %s: database connection failed: %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
        exc,
    )
    return unavailable_response()


def _dbapi_error(request: AnyRequest, exc: sa_exc.DBAPIError) -> Response[Any]:
    """SQLAlchemy's wrapper of every driver error: 503 for a lost connection, else the 500."""
    if is_connection_failure(exc):
        return _driver_connection_error(request, exc)
    internal_error = exception_handlers()[Exception]
    return internal_error(request, exc)


def outage_handlers() -> dict[int | type[Exception], Handler]:
    """Handlers for database connectivity failures; merge after `errors.exception_handlers()`."""
    return {
        DatabaseUnavailable: _database_unavailable,
        # The safety net: errors that only ever mean "no connection". A bare OSError is left
        # to the 500 handler: outside the driver it may be anything (a full disk, say).
        ConnectionError: _driver_connection_error,
        TimeoutError: _driver_connection_error,
        sa_exc.TimeoutError: _driver_connection_error,
        # DB-API's class for "the database's operation failed" (disconnects among them).
        sa_exc.OperationalError: _driver_connection_error,
        sa_exc.DBAPIError: _dbapi_error,
        asyncpg.exceptions.PostgresConnectionError: _driver_connection_error,
        asyncpg.exceptions.ConnectionDoesNotExistError: _driver_connection_error,
        asyncpg.exceptions.CannotConnectNowError: _driver_connection_error,
        asyncpg.exceptions.AdminShutdownError: _driver_connection_error,
        asyncpg.exceptions.CrashShutdownError: _driver_connection_error,
        asyncpg.exceptions.TooManyConnectionsError: _driver_connection_error,
    }

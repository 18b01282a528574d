"""A database that cannot be reached answers 503 with `Retry-After`, never a 500 or a hang.

The storage adapter turns lost and unobtainable connections into the domain's
`DatabaseUnavailable` wherever they surface in a unit of work. The handlers below answer that
error, and, as a safety net for any path that meets a connection error otherwise, the
standard library's `ConnectionError` and `TimeoutError`, with::

    503 {"detail": "Service temporarily unavailable"}   Retry-After: 5

Merge into the app's handler map: ``{**exception_handlers(), **outage_handlers()}``. Litestar
picks a handler by walking the exception's MRO, so `DatabaseUnavailable` is answered here and
not by the generic `ServiceUnavailable` handler of `errors.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

from litestar import Request, Response
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from faros.domain.errors import DATABASE_UNAVAILABLE, DatabaseUnavailable
from faros.entrypoints.http.errors import json_error

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


def _connection_error(request: AnyRequest, exc: Exception) -> Response[Any]:
    """A connection error that bypassed the adapter's translation."""
    logger.warning(
        "503 on %s %s: connection failed: %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
        exc,
    )
    return unavailable_response()


def outage_handlers() -> dict[int | type[Exception], Handler]:
    """Handlers for database connectivity failures; merge after `errors.exception_handlers()`."""
    return {
        DatabaseUnavailable: _database_unavailable,
        # Errors that only ever mean "no connection". A bare OSError is left to the 500
        # handler: outside the driver it may be anything (a full disk, say).
        ConnectionError: _connection_error,
        TimeoutError: _connection_error,
    }

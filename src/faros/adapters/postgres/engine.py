"""Turning a plain ``postgresql://`` URL into an asyncpg-backed SQLAlchemy engine.

The engine is tuned to survive a database outage without help: a request fails within seconds
instead of hanging (connect, statement and pool-checkout timeouts), and once PostgreSQL is back
the pool serves fresh connections by itself (dead pooled connections are dropped at checkout).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

_ACCEPTED_SCHEMES = frozenset({"postgresql", "postgres", "postgresql+asyncpg"})

# libpq spellings in a URL's query that asyncpg.connect() knows under another name.
_RENAMED_QUERY_PARAMS = {"sslmode": "ssl", "connect_timeout": "timeout"}
# Set by the engine itself (server_settings), so dropped from a URL rather than passed on.
_DROPPED_QUERY_PARAMS = frozenset({"application_name"})

# asyncpg waits 60 s for a connection by default: far too long for a request to hang on a
# database host that does not answer. Refused connections fail at once anyway.
CONNECT_TIMEOUT_SECONDS = 5.0
# Every statement of FAROS takes milliseconds; one that runs this long means a hung server
# (or network), and the request should fail rather than hold its connection forever.
COMMAND_TIMEOUT_SECONDS = 10.0
# Connections kept open: `pool_size` plus as many again, the most SQLAlchemy's default overflow
# allowed too. With that default the extra ones were closed at check-in, so under load every
# request beyond `pool_size` at once paid a new connection (TCP, SCRAM authentication, a new
# backend process). Keeping them costs nothing more at the peak and saves CPU per request
# under concurrency (bench/README.md).
POOL_KEPT_FACTOR = 2
# How long a request waits for a pooled connection when all are busy (SQLAlchemy: 30 s).
POOL_TIMEOUT_SECONDS = 10.0
# Connections older than this are replaced at checkout: firewalls and proxies silently drop
# long-idle TCP connections, which no local check can notice.
POOL_RECYCLE_SECONDS = 1800


def to_asyncpg_url(url: str) -> str:
    """Return the SQLAlchemy URL (``postgresql+asyncpg://``) for a plain PostgreSQL URL.

    Accepts ``postgresql://``, ``postgres://`` and ``postgresql+asyncpg://``.  User, password,
    host, port and database are kept as given (percent-encoding included); the libpq query
    parameters ``sslmode`` and ``connect_timeout`` become asyncpg's ``ssl`` and ``timeout``;
    ``?host=/a/socket/dir`` (a Unix socket) passes through unchanged.
    """
    parsed = make_url(url)
    if parsed.drivername not in _ACCEPTED_SCHEMES:
        raise ValueError(f"not a PostgreSQL URL (scheme {parsed.drivername!r})")
    query: dict[str, str | tuple[str, ...]] = {}
    for key, value in parsed.query.items():
        if key in _DROPPED_QUERY_PARAMS:
            continue
        query[_RENAMED_QUERY_PARAMS.get(key, key)] = value
    return parsed.set(drivername="postgresql+asyncpg", query=query).render_as_string(
        hide_password=False
    )


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An :class:`AsyncEngine` on asyncpg for ``url`` (any form :func:`to_asyncpg_url` accepts).

    Timeouts: connecting 5 s, each statement 10 s, waiting for a pooled connection 10 s; a URL
    may set its own ``connect_timeout`` / ``command_timeout`` (query parameters), which win.
    A pooled connection whose server side has gone (a PostgreSQL restart closes them all) is
    replaced at checkout at no cost: no pre-ping round trip, see `_drop_closed_connections`.
    SQLAlchemy's prepared-statement cache stays at its default (on, 100 per connection).
    """
    asyncpg_url = to_asyncpg_url(url)
    engine = create_async_engine(
        asyncpg_url,
        pool_size=pool_size * POOL_KEPT_FACTOR,
        max_overflow=0,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_pre_ping=False,
        # A statement's parameters are user content: kept out of error texts (and so logs).
        hide_parameters=True,
        connect_args=driver_connect_kwargs(make_url(asyncpg_url)),
    )
    event.listen(engine.sync_engine, "checkout", _drop_closed_connections)
    return engine


def driver_connect_kwargs(url: URL) -> dict[str, Any]:
    """What asyncpg.connect() gets besides the URL's own parts, for every FAROS connection."""
    return {
        "server_settings": {"application_name": "faros", "jit": "off"},
        **_timeouts(url.query),
    }


def _timeouts(query: Mapping[str, str | tuple[str, ...]]) -> dict[str, float]:
    """asyncpg's two timeouts: the URL's values when it has them, else the defaults above.

    SQLAlchemy hands URL query values to asyncpg as strings, which asyncpg cannot use as
    timeouts; and connect_args override the URL. So both are resolved here, as numbers.
    """
    timeouts: dict[str, float] = {}
    for name, default in (
        ("timeout", CONNECT_TIMEOUT_SECONDS),
        ("command_timeout", COMMAND_TIMEOUT_SECONDS),
    ):
        value = query.get(name)
        if isinstance(value, tuple):  # repeated in the URL: the last one counts
            value = value[-1] if value else None
        timeouts[name] = default if value is None else float(value)
    return timeouts


def _drop_closed_connections(
    dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
) -> None:
    """Refuse a pooled connection that asyncpg already knows to be closed.

    When PostgreSQL stops or restarts it ends every session, and asyncpg notices on its own
    (the socket is read even while idle), so ``is_closed()`` is a free, local liveness check.
    `DisconnectionError` makes the pool discard this one connection and open a fresh one —
    the request then succeeds instead of failing on the first statement. (SQLAlchemy's
    ``pool_pre_ping`` would cost up to three round trips on every checkout.)
    """
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this pooled connection")

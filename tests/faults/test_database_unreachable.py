"""A database that refuses, never answers, or runs a statement too long: a quick 503, not a hang.

The in-process app (no server process needed) is pointed at addresses where no PostgreSQL
answers: a closed port (connection refused at once) and a socket that accepts connections but
never speaks (a hung server or a black-holed network: only the connect timeout ends the wait).
A statement running past the statement timeout ends the same way. The URL's own
`connect_timeout` / `command_timeout` query parameters set the bounds here.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fault_kit import free_port, running
from sqlalchemy import func, literal, select
from sqlalchemy.engine import make_url

from faros.adapters.postgres.database import Database
from faros.adapters.postgres.engine import create_engine
from faros.adapters.postgres.query import Query
from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.adapters.security.argon2_hasher import Argon2PasswordHasher
from faros.domain.errors import DatabaseUnavailable
from faros.entrypoints.http.app import create_app
from faros.entrypoints.settings import Settings

UNAVAILABLE = {"detail": "Service temporarily unavailable"}
UNHEALTHY = {"status": "unhealthy", "database": "disconnected", "redis": "disabled"}
BOUND = 3.0  # seconds: generous for a loaded machine; the timeouts below are 0.5 s


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port whose connections the kernel accepts but nobody ever answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        port: int = listener.getsockname()[1]
        yield port


def _unreachable_url(port: int) -> str:
    return f"postgresql://faros:secret@127.0.0.1:{port}/faros?connect_timeout=0.5"


@pytest.mark.parametrize("where", ["closed port", "silent server"])
async def test_app_answers_503_quickly_when_the_database_is_unreachable(
    where: str, silent_listener: int, tmp_path: Path
) -> None:
    port = free_port() if where == "closed port" else silent_listener
    settings = Settings(
        data_dir=tmp_path, upload_dir=tmp_path / "uploads", rate_limits=False,
        outbox_worker=False, secret_key="unreachable-suite-" + "k" * 32, redis_url=None,
    )  # fmt: skip
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    app = create_app(settings, database_url=_unreachable_url(port), hasher=hasher)
    async with running(app):
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            calls = [
                ("GET", "/health", None),
                ("POST", "/auth/login", {"username": "someone", "password": "whatever-1"}),
                (
                    "POST",
                    "/auth/register",
                    {"username": "someone", "email": "someone@example.com", "password": "x" * 9},
                ),
                ("POST", "/auth/password-reset/request", {"email": "someone@example.com"}),
            ]
            for method, path, body in calls:
                began = time.monotonic()
                answer = await client.request(method, path, json=body)
                assert time.monotonic() - began < BOUND, path
                assert answer.status_code == 503, (path, answer.text)
                if path == "/health":
                    assert answer.json() == UNHEALTHY
                else:
                    assert answer.json() == UNAVAILABLE
                    assert answer.headers["retry-after"] == "5"
                    assert answer.headers["content-type"].startswith("application/json")
    await hasher.aclose()


@pytest.mark.postgres
async def test_a_statement_past_the_command_timeout_is_an_outage(database_url: str) -> None:
    url = make_url(database_url).update_query_dict({"command_timeout": "0.5"})
    engine = create_engine(url.render_as_string(hide_password=False), pool_size=1)
    factory = PostgresUnitOfWorkFactory(engine, driver_pool_size=1)
    try:
        database = Database(factory.pool)
        began = time.monotonic()
        with pytest.raises(DatabaseUnavailable):
            await database.execute(Query(select(func.pg_sleep(30))))
        assert time.monotonic() - began < BOUND
        await database.close()
        # The pooled connection was not poisoned: the next statement just works.
        database = Database(factory.pool)
        assert len(await database.execute(Query(select(literal(1).label("one"))))) == 1
        await database.close()
        await factory.aclose()
    finally:
        await engine.dispose()

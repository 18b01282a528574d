"""The race suite: the real app in-process on the session's PostgreSQL, hit by concurrent requests.

Requests are fired with ``asyncio.gather``: each runs its own unit of work on its own pooled
connection, so PostgreSQL sees truly concurrent transactions (row locks, unique indexes,
foreign keys), while the test stays in one event loop and needs no server process.

Every test creates its own users (random names) and looks only at rows it made, so the suite
shares the session database with every other test.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from race_kit import Api, running
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.security.argon2_hasher import Argon2PasswordHasher
from faros.entrypoints.http.app import create_app
from faros.entrypoints.settings import Settings


@pytest.fixture(scope="session")
def race_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="faros-races-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
async def race_app(database_url: str, race_folder: Path) -> AsyncIterator[Litestar]:
    settings = Settings(
        data_dir=race_folder,
        upload_dir=race_folder / "uploads",
        rate_limits=False,
        outbox_worker=False,
        secret_key="race-suite-secret-key-" + "x" * 32,
        redis_url=None,
    )
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    application = create_app(settings, database_url=database_url, hasher=hasher)
    async with running(application):
        yield application
    await hasher.aclose()


@pytest.fixture
async def http(race_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=race_app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def api(http: httpx.AsyncClient, engine: AsyncEngine) -> Api:
    return Api(http, engine)

"""The embedded PostgreSQL server: URL shape, persistence across restarts, sharing."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from faros.adapters.postgres.engine import create_engine
from faros.entrypoints.embedded_postgres import EmbeddedPostgres

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="faros-test-embedded-"))
    yield folder / "postgres"
    shutil.rmtree(folder, ignore_errors=True)


async def _query(url: str, *statements: str) -> object:
    """Run the statements in one transaction; the last one's first value."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                result = await connection.execute(text(statement))
            return result.scalar()
    finally:
        await engine.dispose()


async def test_data_survives_a_restart_and_a_second_handle_shares_the_server(
    data_dir: Path,
) -> None:
    server = EmbeddedPostgres(data_dir, database="faros_embedded", durable=False)
    url = server.start()
    try:
        parsed = make_url(url)
        assert (parsed.drivername, parsed.host, parsed.username) == (
            "postgresql",
            "127.0.0.1",
            "postgres",
        )
        assert parsed.database == "faros_embedded"
        assert parsed.password
        await _query(
            url, "CREATE TABLE kept (value int)", "INSERT INTO kept VALUES (42) RETURNING 1"
        )

        second = EmbeddedPostgres(data_dir, database="faros_embedded")
        assert second.start() == url  # the running server is reused...
        second.stop()  # ...and not stopped by a handle that did not start it
        assert await _query(url, "SELECT count(*) FROM kept") == 1
    finally:
        server.stop()

    restarted = EmbeddedPostgres(data_dir, database="faros_embedded", durable=False)
    try:
        url = restarted.start()
        assert await _query(url, "SELECT value FROM kept") == 42
        assert await _query(url, "CREATE EXTENSION pg_trgm", "SELECT similarity('ab', 'ab')") == 1
    finally:
        restarted.stop()


def test_refuses_a_folder_that_is_not_a_data_directory(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / "stray.txt").write_text("not a cluster")
    with pytest.raises(RuntimeError, match="neither empty nor a PostgreSQL data directory"):
        EmbeddedPostgres(data_dir).start()

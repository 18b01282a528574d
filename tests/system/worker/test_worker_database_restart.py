"""`faros worker` outlives its database going down and coming back.

A PostgreSQL of this test's own (embedded, about two seconds) is stopped while the worker
runs, left down until the worker has noticed, and started again on the same port.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from email_receivers import parse_mime
from outbox_kit import email, eventually, queue
from process_kit import faros_env, running
from sqlalchemy.engine import make_url

from faros.adapters.postgres.engine import create_engine
from faros.adapters.postgres.migrate import upgrade_async
from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.entrypoints.embedded_postgres import EmbeddedPostgres

pytestmark = [pytest.mark.postgres, pytest.mark.system, pytest.mark.slow]


@pytest.fixture
def database() -> Iterator[EmbeddedPostgres]:
    folder = Path(tempfile.mkdtemp(prefix="faros-restart-"))
    server = EmbeddedPostgres(folder / "data", database="faros", durable=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def pg_ctl(server: EmbeddedPostgres, *args: str) -> None:
    # The wrapper's own runner: it knows which user the server must run as.
    server._run("pg_ctl", ["-D", str(server.data_dir), "-w", *args], run_as=server._owner())


async def test_the_worker_outlives_a_database_restart(
    database: EmbeddedPostgres, tmp_path: Path
) -> None:
    url = database.url
    port = make_url(url).port
    await upgrade_async(url)
    engine = create_engine(url, pool_size=1)
    uow = PostgresUnitOfWorkFactory(engine)
    mail_dir = tmp_path / "data" / "outbox"

    def subjects() -> list[str]:
        return sorted(parse_mime(p.read_bytes()).subject for p in mail_dir.glob("*.eml"))

    async def holds(value: bool) -> bool:
        return value

    try:
        with running("worker", faros_env(url, tmp_path / "data"), tmp_path, "worker") as worker:
            await queue(uow, [email(1)], datetime.now(UTC), one_tx=True)
            await eventually(lambda: holds(subjects() == ["m-1"]), within=60, what="m-1")
            await engine.dispose()

            pg_ctl(database, "-m", "fast", "stop")
            for symptom in (
                "outbox listener lost the database",
                "outbox worker cannot reach the database (failure 2)",
            ):
                await eventually(lambda s=symptom: holds(s in worker.output()), what=symptom)
            options = (
                f"-c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c port={port} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            pg_ctl(database, "-l", str(database.data_dir / "server.log"), "-o", options, "start")

            await queue(uow, [email(2)], datetime.now(UTC), one_tx=True)
            await eventually(lambda: holds(subjects() == ["m-1", "m-2"]), what="m-2")
            assert worker.stop() == 0, worker.output()
        log = worker.output()
        assert "outbox worker recovered after" in log, log
    finally:
        await engine.dispose()

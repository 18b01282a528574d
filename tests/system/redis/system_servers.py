"""A `faros serve` process group, for the tests of this folder (imported by name)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_BOUND = 60.0  # seconds; imports, migrations check and worker start on a busy box


@dataclass
class FarosServer:
    """One `faros serve` process group; its output goes to `log`."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

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
            time.sleep(0.1)  # poll interval

    def stop(self) -> None:
        if self.process.poll() is None:
            # The server's own process group (start_new_session): its workers go with it.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


StartServer = Callable[..., FarosServer]  # start(workers=1, **FAROS_variables)

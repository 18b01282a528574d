"""Starting `faros worker` / `faros serve` as child processes, configured only through their
environment, from a folder of their own (so no `.env` of the developer's is read)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FRONTEND = "http://frontend.test:5173"


def faros_env(database_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """This machine's environment without any FAROS_* variable, plus `settings`
    (keyword `email_provider` becomes FAROS_EMAIL_PROVIDER)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAROS_")}
    env |= {
        "FAROS_DATABASE_URL": database_url,
        "FAROS_DATA_DIR": str(data_dir),
        "FAROS_FRONTEND_URL": FRONTEND,
        "FAROS_LOG_FORMAT": "console",
        "FAROS_SECRET_KEY": "worker-tests-secret-key-" + "x" * 32,
    }
    env |= {f"FAROS_{name.upper()}": value for name, value in settings.items()}
    return env


class FarosProcess:
    def __init__(self, command: str, env: dict[str, str], folder: Path, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / f"{name}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "faros.entrypoints.cli", command],
                env=env,
                cwd=folder,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as a crash or an OOM kill."""
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM and wait: the way a service manager stops it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


@contextmanager
def running(command: str, env: dict[str, str], folder: Path, name: str) -> Iterator[FarosProcess]:
    child = FarosProcess(command, env, folder, name)
    try:
        yield child
    finally:
        if child.process.poll() is None:
            child.kill()

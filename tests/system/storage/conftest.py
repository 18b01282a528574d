"""Real `faros serve` processes (uvicorn, uvloop, httptools) storing files on disk or in S3.

Fixtures: `storage_server` is `faros serve` with local storage, then with `FAROS_STORAGE=s3`
pointed at this session's moto server (module scope, parametrized), each on a database of its
own so its outbox worker carries out only that server's removals.
`peek_bucket` lists what a bucket holds. The moto fixtures come from the blob storage contract
suite (`tests/contract/blob_fixtures.py`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))

from blob_fixtures import AWS_REGION, aws_credentials, moto_endpoint, s3_admin  # noqa: F401

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

STARTUP_BOUND = 60.0  # seconds: imports and the migrations check on a busy machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class StorageServer:
    kind: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    upload_dir: Path
    bucket: str | None

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    async def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_BOUND
        async with httpx.AsyncClient(timeout=1) as http:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"faros serve exited early:\n{self.output()}")
                try:
                    if (await http.get(f"{self.url}/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"faros serve did not become healthy:\n{self.output()}")
                await asyncio.sleep(0.1)  # poll interval while the process starts

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def spawn(folder: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`faros serve` in a process group of its own, its output in `log`."""
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "faros.entrypoints.cli", "serve"],
            cwd=folder,  # no stray .env from the developer's working directory
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture(scope="module", params=["local", "s3"])
async def storage_server(
    request: pytest.FixtureRequest,
    database_factory: object,
    tmp_path_factory: pytest.TempPathFactory,
    moto_endpoint: str,
    s3_admin: S3Client,
) -> AsyncIterator[StorageServer]:
    """One started and healthy `faros serve` per storage kind, shared by the module's tests."""
    kind: str = request.param
    folder = tmp_path_factory.mktemp(f"faros-storage-{kind}")
    port = free_port()
    database = await database_factory.create()  # type: ignore[attr-defined]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAROS_", "AWS_"))}
    env.update(
        FAROS_HOST="127.0.0.1",
        FAROS_PORT=str(port),
        FAROS_WORKERS="1",
        FAROS_DATABASE_URL=database,
        FAROS_DATA_DIR=str(folder),
        FAROS_SECRET_KEY="storage-system-secret-" + "s" * 32,
        FAROS_OUTBOX_WORKER="on",
        FAROS_RATE_LIMITS="off",
        FAROS_LOG_LEVEL="WARNING",
    )
    bucket = None
    if kind == "s3":
        bucket = f"faros-system-{uuid.uuid4().hex[:12]}"
        await s3_admin.create_bucket(Bucket=bucket)
        env.update(
            FAROS_STORAGE="s3",
            FAROS_S3_BUCKET=bucket,
            FAROS_S3_REGION=AWS_REGION,
            FAROS_S3_ENDPOINT_URL=moto_endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        )
    log = folder / "server.log"
    server = StorageServer(
        kind, f"http://127.0.0.1:{port}", spawn(folder, env, log), log, folder / "uploads", bucket
    )
    try:
        await server.wait_until_healthy()
        yield server
    finally:
        server.stop()


@pytest.fixture
def peek_bucket(s3_admin: S3Client) -> Callable[[str, str], Awaitable[list[str]]]:
    async def keys(bucket: str, prefix: str) -> list[str]:
        listed = await s3_admin.list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    return keys

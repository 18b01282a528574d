"""Fixtures for the blob storage contract: a real S3-compatible server and both adapters.

`moto_endpoint` (session scope) is a moto server in a thread, on a free port, with dummy AWS
credentials in the environment; other suites (SES) can import it from here.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import aioboto3
import pytest
from moto.server import ThreadedMotoServer

from faros.adapters.localfs import LocalBlobStorage
from faros.adapters.s3 import S3BlobStorage
from faros.ports.blob_storage import BlobStorage

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

AWS_REGION = "us-east-1"


@pytest.fixture(scope="session")
def aws_credentials() -> Iterator[None]:
    """Dummy credentials, and no developer profile or config leaking into the tests."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", AWS_REGION)
        patch.setenv("AWS_CONFIG_FILE", os.devnull)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="session")
def moto_endpoint(aws_credentials: None) -> Iterator[str]:
    """URL of a moto server speaking the real AWS HTTP protocols (S3, SES, ...)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
async def s3_admin(moto_endpoint: str) -> AsyncIterator[S3Client]:
    """A plain client for setting up and inspecting buckets behind the adapter's back."""
    session = aioboto3.Session()
    async with session.client("s3", region_name=AWS_REGION, endpoint_url=moto_endpoint) as s3:
        yield s3


@pytest.fixture
async def s3_bucket(s3_admin: S3Client) -> str:
    """A fresh bucket per test, so tests cannot see each other's objects."""
    name = f"faros-test-{uuid.uuid4().hex[:16]}"
    await s3_admin.create_bucket(Bucket=name)
    return name


@dataclass(frozen=True, slots=True)
class StorageCase:
    """An adapter under test plus a raw view of everything its backend holds."""

    storage: BlobStorage
    # Every name present in the backend, temp files and unfinished multipart uploads included.
    residue: Callable[[], Awaitable[list[str]]]


@pytest.fixture
async def local_case(tmp_path: Path) -> StorageCase:
    root = tmp_path / "blobs"

    async def residue() -> list[str]:
        if not root.exists():
            return []
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())

    return StorageCase(LocalBlobStorage(root), residue)


@pytest.fixture
async def s3_case(
    moto_endpoint: str, s3_admin: S3Client, s3_bucket: str
) -> AsyncIterator[StorageCase]:
    storage = S3BlobStorage(s3_bucket, AWS_REGION, endpoint_url=moto_endpoint)

    async def residue() -> list[str]:
        objects = await s3_admin.list_objects_v2(Bucket=s3_bucket)
        uploads = await s3_admin.list_multipart_uploads(Bucket=s3_bucket)
        names = [item["Key"] for item in objects.get("Contents", [])]
        names += [f"multipart:{item['Key']}" for item in uploads.get("Uploads", [])]
        return sorted(names)

    yield StorageCase(storage, residue)
    await storage.close()


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def storage_case(request: pytest.FixtureRequest) -> StorageCase:
    case: StorageCase = request.getfixturevalue(f"{request.param}_case")
    return case

"""Contract of the `BlobStorage` port, run against every adapter (local directory and S3).

The S3 adapter talks HTTP to a real S3-compatible server (moto), so request signing,
multipart uploads and error codes are exercised as in production.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from pathlib import Path

import pytest
from blob_fixtures import (  # noqa: F401  (fixtures are found by name)
    AWS_REGION,
    StorageCase,
    aws_credentials,
    local_case,
    moto_endpoint,
    s3_admin,
    s3_bucket,
    s3_case,
    storage_case,
)

from faros.adapters.localfs import LocalBlobStorage
from faros.adapters.s3 import S3BlobStorage
from faros.domain.errors import Invalid
from faros.ports.blob_storage import BlobNotFound, BlobStorageError

MiB = 1024 * 1024
READ_CHUNK = 64 * 1024


class Boom(Exception):
    """Stands for whatever the upload stream raises."""


async def stream(data: bytes, chunk: int = 100_000) -> AsyncIterator[bytes]:
    # An odd chunk size, so parts and buffers never line up with the input by luck.
    for start in range(0, len(data), chunk):
        yield data[start : start + chunk]


async def failing(prefix: bytes, error: BaseException) -> AsyncIterator[bytes]:
    async for chunk in stream(prefix):
        yield chunk
    raise error


async def read_all(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


def attachment_key() -> str:
    return f"task_11_{uuid.uuid4()}.bin"


# --- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 1000, 5 * MiB, 12 * MiB], ids=["1B", "1KB", "5MiB", "12MiB"])
async def test_roundtrip_is_byte_exact(storage_case: StorageCase, size: int) -> None:
    storage = storage_case.storage
    data = os.urandom(size)
    key = attachment_key()

    assert await storage.put(key, stream(data), "application/octet-stream") == size

    assert await storage.exists(key)
    assert await storage.size(key) == size
    chunks = [chunk async for chunk in await storage.get(key)]
    assert b"".join(chunks) == data
    assert max(len(chunk) for chunk in chunks) <= READ_CHUNK
    assert await storage_case.residue() == [key]


async def test_many_tiny_chunks(storage_case: StorageCase) -> None:
    data = os.urandom(300_000)
    key = attachment_key()
    assert await storage_case.storage.put(key, stream(data, chunk=7), "text/plain") == len(data)
    assert await read_all(await storage_case.storage.get(key)) == data


async def test_empty_object(storage_case: StorageCase) -> None:
    storage = storage_case.storage
    key = attachment_key()

    assert await storage.put(key, stream(b""), "text/plain") == 0

    assert await storage.exists(key)
    assert await storage.size(key) == 0
    assert await read_all(await storage.get(key)) == b""


@pytest.mark.parametrize(("first", "second"), [(3 * MiB, 10), (10, 6 * MiB)])
async def test_overwrite_replaces_content(
    storage_case: StorageCase, first: int, second: int
) -> None:
    storage = storage_case.storage
    key = attachment_key()
    replacement = os.urandom(second)
    await storage.put(key, stream(os.urandom(first)), "image/png")

    assert await storage.put(key, stream(replacement), "image/png") == second

    assert await storage.size(key) == second
    assert await read_all(await storage.get(key)) == replacement
    assert await storage_case.residue() == [key]


async def test_avatar_prefix(storage_case: StorageCase) -> None:
    storage = storage_case.storage
    key = "avatars/user_7_avatar.png"
    data = b"\x89PNG\r\n\x1a\n" + os.urandom(2000)

    await storage.put(key, stream(data), "image/png")

    assert await read_all(await storage.get(key)) == data
    assert await storage.size(key) == len(data)
    # The prefix itself is no object, even where it is a directory on disk.
    assert not await storage.exists("avatars")
    with pytest.raises(BlobNotFound):
        await storage.get("avatars")
    await storage.delete("avatars")
    await storage.delete(key)
    assert not await storage.exists(key)


# --- missing objects and deletion -------------------------------------------------------------


async def test_missing_object(storage_case: StorageCase) -> None:
    storage = storage_case.storage
    key = attachment_key()

    # `get` must fail when awaited, before any iteration, so a 404 can still be answered.
    with pytest.raises(BlobNotFound):
        await storage.get(key)
    with pytest.raises(BlobNotFound):
        await storage.size(key)
    assert not await storage.exists(key)
    await storage.delete(key)


async def test_delete_is_idempotent(storage_case: StorageCase) -> None:
    storage = storage_case.storage
    key = attachment_key()
    await storage.put(key, stream(b"hello"), "text/plain")

    await storage.delete(key)
    await storage.delete(key)

    assert not await storage.exists(key)
    with pytest.raises(BlobNotFound):
        await storage.get(key)
    assert await storage_case.residue() == []


async def test_stream_abandoned_early(storage_case: StorageCase) -> None:
    storage = storage_case.storage
    key = attachment_key()
    data = os.urandom(1 * MiB)
    await storage.put(key, stream(data), "application/pdf")

    unread = await storage.get(key)
    await unread.aclose()  # type: ignore[attr-defined]
    partial = await storage.get(key)
    assert len(await anext(partial)) > 0
    await partial.aclose()  # type: ignore[attr-defined]

    assert await read_all(await storage.get(key)) == data


# --- failures while uploading -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "error"),
    [
        (0, Boom("at once")),
        (1000, Invalid("File content does not match its type")),
        (1000, ConnectionResetError("client went away")),
        (7 * MiB, Invalid("File too large. Max size: 10.0 MB")),
        (11 * MiB, Boom("after two parts")),
    ],
    ids=["before-any-byte", "small-invalid", "small-oserror", "one-part-invalid", "two-parts"],
)
async def test_failing_stream_leaves_nothing(
    storage_case: StorageCase, sent: int, error: Exception
) -> None:
    storage = storage_case.storage
    key = attachment_key()

    with pytest.raises(type(error)) as raised:
        await storage.put(key, failing(os.urandom(sent), error), "text/plain")

    assert raised.value is error  # unchanged, not wrapped into a storage error
    assert not await storage.exists(key)
    assert await storage_case.residue() == []


async def test_failed_overwrite_keeps_old_object(storage_case: StorageCase) -> None:
    storage = storage_case.storage
    key = "avatars/user_3_avatar.jpg"
    old = os.urandom(4000)
    await storage.put(key, stream(old), "image/jpeg")

    with pytest.raises(Boom):
        await storage.put(key, failing(os.urandom(6 * MiB), Boom()), "image/jpeg")

    assert await read_all(await storage.get(key)) == old
    assert await storage_case.residue() == [key]


async def test_readers_never_see_a_partial_object(storage_case: StorageCase) -> None:
    storage = storage_case.storage
    key = attachment_key()
    data = os.urandom(6 * MiB)
    paused, resume = asyncio.Event(), asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        async for chunk in stream(data[: 6 * MiB - 10]):
            yield chunk
        paused.set()
        await resume.wait()
        yield data[6 * MiB - 10 :]

    upload = asyncio.create_task(storage.put(key, slow(), "application/octet-stream"))
    await asyncio.wait_for(paused.wait(), 30)
    # Most of the bytes (more than one S3 part) are already in the backend, as a temp file or
    # an unfinished multipart upload: the stream is not held back in memory. Yet no object.
    pending = await storage_case.residue()
    assert pending
    assert key not in pending
    assert not await storage.exists(key)
    with pytest.raises(BlobNotFound):
        await storage.get(key)
    resume.set()

    assert await upload == len(data)
    assert await read_all(await storage.get(key)) == data


async def test_cancelled_upload_leaves_nothing(storage_case: StorageCase) -> None:
    storage = storage_case.storage
    key = attachment_key()
    paused = asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        async for chunk in stream(os.urandom(6 * MiB)):
            yield chunk
        paused.set()
        await asyncio.Event().wait()
        yield b""  # pragma: no cover

    upload = asyncio.create_task(storage.put(key, stalls(), "text/plain"))
    await asyncio.wait_for(paused.wait(), 30)
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload

    assert await storage_case.residue() == []


# --- keys ---------------------------------------------------------------------------------------

BAD_KEYS = [
    "",
    "/etc/passwd",
    "../outside",
    "avatars/../../outside",
    "avatars/..",
    "./task_1.txt",
    "avatars//user_1_avatar.png",
    "avatars/",
    "avatars\\user_1_avatar.png",
    "..\\outside",
    "task_1\x00.txt",
]


def operations(storage_case: StorageCase, key: str) -> Iterator[Awaitable[object]]:
    storage = storage_case.storage
    yield storage.put(key, stream(b"x"), "text/plain")
    yield storage.get(key)
    yield storage.size(key)
    yield storage.delete(key)
    yield storage.exists(key)


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
async def test_invalid_keys_are_rejected(storage_case: StorageCase, key: str) -> None:
    for operation in operations(storage_case, key):
        with pytest.raises(ValueError, match="Invalid storage key"):
            await operation
    assert await storage_case.residue() == []


# --- backend failures ----------------------------------------------------------------------


async def test_local_unusable_root_raises_storage_error(tmp_path: Path) -> None:
    root = tmp_path / "not-a-directory"
    root.write_bytes(b"")
    storage = LocalBlobStorage(root)

    with pytest.raises(BlobStorageError):
        await storage.put("avatars/user_1_avatar.png", stream(b"x"), "image/png")


@pytest.mark.s3
async def test_s3_missing_bucket_is_a_storage_error_not_a_missing_object(
    moto_endpoint: str,
) -> None:
    storage = S3BlobStorage("faros-no-such-bucket", AWS_REGION, endpoint_url=moto_endpoint)
    try:
        with pytest.raises(BlobStorageError):
            await storage.put("task_1_x.txt", stream(b"hello"), "text/plain")
        with pytest.raises(BlobStorageError):
            await storage.put("task_1_x.txt", stream(os.urandom(6 * MiB)), "text/plain")
        with pytest.raises(BlobStorageError):
            await storage.get("task_1_x.txt")
        with pytest.raises(BlobStorageError):
            await storage.delete("task_1_x.txt")
    finally:
        await storage.close()


# --- S3 outage ----------------------------------------------------------------------------------


@pytest.fixture
def closed_port() -> Iterable[int]:
    """A port bound but not listening: connections are refused, and nobody else can take it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


OUTAGE_CALLS = ["put", "put-multipart", "get", "size", "exists", "delete"]


@pytest.mark.s3
@pytest.mark.usefixtures("aws_credentials")
@pytest.mark.parametrize("call", OUTAGE_CALLS)
async def test_s3_outage_raises_storage_error_quickly(closed_port: int, call: str) -> None:
    storage = S3BlobStorage(
        "faros-down", AWS_REGION, endpoint_url=f"http://127.0.0.1:{closed_port}"
    )
    key = "task_1_x.txt"
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "put": lambda: storage.put(key, stream(b"hello"), "text/plain"),
        "put-multipart": lambda: storage.put(key, stream(os.urandom(6 * MiB)), "text/plain"),
        "get": lambda: storage.get(key),
        "size": lambda: storage.size(key),
        "exists": lambda: storage.exists(key),
        "delete": lambda: storage.delete(key),
    }
    started = time.monotonic()
    try:
        with pytest.raises(BlobStorageError):
            await calls[call]()
        assert time.monotonic() - started < 5
    finally:
        await storage.close()

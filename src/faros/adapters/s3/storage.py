"""`BlobStorage` on S3: streamed multipart uploads, streamed downloads, one shared client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import aioboto3
from aiobotocore.config import AioConfig
from aiobotocore.response import StreamingBody
from botocore.exceptions import BotoCoreError, ClientError

from faros.domain.files import validate_storage_key
from faros.ports.blob_storage import BlobNotFound, BlobStorageError

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef

CHUNK_SIZE = 64 * 1024
# S3's minimum for every part but the last. Also the most one upload holds in memory, so it is
# kept at the minimum: uploads are capped at 10 MiB, so there are never more than three parts.
PART_SIZE = 5 * 1024 * 1024
# Head requests carry no body, so a missing object only shows as the bare status code.
_MISSING_CODES = frozenset({"NoSuchKey", "NotFound", "404"})


def default_config(endpoint_url: str | None) -> AioConfig:
    """Fail fast when storage is down: the request is waiting and the caller answers 503."""
    options: dict[str, Any] = {
        "connect_timeout": 2,
        "read_timeout": 20,
        # One retry for a dropped connection; standard mode sleeps at most 1 s before it.
        # (`max_attempts` would count retries only, hence the explicit total.)
        "retries": {"total_max_attempts": 2, "mode": "standard"},
    }
    if endpoint_url is not None:
        # S3-compatible servers (MinIO, moto, Ceph) are addressed by IP or a single host
        # name, where virtual-hosted bucket names do not resolve.
        options["s3"] = {"addressing_style": "path"}
    return AioConfig(**options)


@contextlib.contextmanager
def _mapped_errors(key: str) -> Iterator[None]:
    """Translate botocore failures into the port's two errors; let everything else through.

    Caveat: without `s3:ListBucket` S3 answers 403 rather than 404 for a missing object,
    which then surfaces as `BlobStorageError`. Grant it to get proper 404s.
    """
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _MISSING_CODES:
            raise BlobNotFound(key) from error
        raise BlobStorageError(f"S3 refused the request for {key!r}: {code}") from error
    except (BotoCoreError, OSError) as error:
        # Connection refused, timeouts and broken streams all land here.
        raise BlobStorageError(f"S3 is unreachable: {error}") from error


class _BodyChunks(AsyncIterator[bytes]):
    """Chunks of an open `get_object` body; `aclose` releases the connection early."""

    def __init__(self, key: str, body: StreamingBody) -> None:
        self._key = key
        self._body = body
        self._chunks = body.iter_chunks(CHUNK_SIZE)
        self._closed = False

    async def __anext__(self) -> bytes:
        if self._closed:
            raise StopAsyncIteration
        with _mapped_errors(self._key):
            return await anext(self._chunks)

    async def aclose(self) -> None:
        # Closing drops the connection instead of draining an unread body into the pool.
        self._closed = True
        self._body.close()


async def _fill(chunks: AsyncIterator[bytes], buffer: bytearray) -> bool:
    """Append chunks until the buffer holds a full part; False once the stream has ended."""
    async for chunk in chunks:
        buffer += chunk
        if len(buffer) >= PART_SIZE:
            return True
    return False


def _take(buffer: bytearray) -> bytes:
    """The buffer's bytes, leaving it empty: only one copy of a part stays alive while it is
    sent (the client's types want `bytes`, so the bytearray cannot be passed as it is)."""
    body = bytes(buffer)
    buffer.clear()
    return body


class S3BlobStorage:
    def __init__(
        self,
        bucket: str,
        region: str,
        endpoint_url: str | None = None,
        session: aioboto3.Session | None = None,
        *,
        config: AioConfig | None = None,
    ) -> None:
        self._bucket = bucket
        self._region = region
        self._endpoint_url = endpoint_url
        # Credentials come from the session, which by default reads the usual AWS variables.
        self._session = session or aioboto3.Session()
        self._config = config or default_config(endpoint_url)
        self._client: S3Client | None = None
        self._exit_stack = contextlib.AsyncExitStack()
        self._lock = asyncio.Lock()

    async def _s3(self) -> S3Client:
        # One client for the adapter's lifetime: creating one loads service models and opens a
        # connection pool, which costs far more than the request it would serve.
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    with _mapped_errors(""):
                        self._client = await self._exit_stack.enter_async_context(
                            self._session.client(
                                "s3",
                                region_name=self._region,
                                endpoint_url=self._endpoint_url,
                                config=self._config,
                            )
                        )
        return self._client

    async def close(self) -> None:
        """Release the client and its connections; a later call creates a new client."""
        async with self._lock:
            self._client = None
            await self._exit_stack.aclose()
            self._exit_stack = contextlib.AsyncExitStack()

    async def put(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> int:
        validate_storage_key(key)
        s3 = await self._s3()
        buffer = bytearray()
        # Errors from `chunks` itself propagate unchanged: only S3 calls are mapped.
        if await _fill(chunks, buffer):
            return await self._put_multipart(s3, key, buffer, chunks, content_type)
        size = len(buffer)
        body = _take(buffer)
        with _mapped_errors(key):
            await s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)
        return size

    async def _put_multipart(
        self,
        s3: S3Client,
        key: str,
        buffer: bytearray,
        chunks: AsyncIterator[bytes],
        content_type: str,
    ) -> int:
        """Send a stream whose first full part is in `buffer`; the object appears only at the
        end, so a failure before completion leaves nothing a reader could see."""
        with _mapped_errors(key):
            upload = await s3.create_multipart_upload(
                Bucket=self._bucket, Key=key, ContentType=content_type
            )
        upload_id = upload["UploadId"]
        parts: list[CompletedPartTypeDef] = []
        size = 0
        try:
            more = True
            while buffer:
                size += len(buffer)
                parts.append(await self._send_part(s3, key, upload_id, len(parts) + 1, buffer))
                more = more and await _fill(chunks, buffer)
            with _mapped_errors(key):
                await s3.complete_multipart_upload(
                    Bucket=self._bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except BaseException:
            # Parts already sent are billed until aborted. If the abort fails too, a bucket
            # lifecycle rule (AbortIncompleteMultipartUpload) is the backstop.
            with contextlib.suppress(BotoCoreError, ClientError, OSError):
                await s3.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=upload_id)
            raise
        return size

    async def _send_part(
        self, s3: S3Client, key: str, upload_id: str, number: int, buffer: bytearray
    ) -> CompletedPartTypeDef:
        body = _take(buffer)
        with _mapped_errors(key):
            sent = await s3.upload_part(
                Bucket=self._bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            )
        return {"PartNumber": number, "ETag": sent["ETag"]}

    async def get(self, key: str) -> AsyncIterator[bytes]:
        validate_storage_key(key)
        s3 = await self._s3()
        with _mapped_errors(key):
            response = await s3.get_object(Bucket=self._bucket, Key=key)
        return _BodyChunks(key, response["Body"])

    async def size(self, key: str) -> int:
        validate_storage_key(key)
        s3 = await self._s3()
        with _mapped_errors(key):
            response = await s3.head_object(Bucket=self._bucket, Key=key)
        return response["ContentLength"]

    async def delete(self, key: str) -> None:
        validate_storage_key(key)
        s3 = await self._s3()
        # S3 answers 204 for a missing key too, which is the idempotence the port asks for.
        with _mapped_errors(key):
            await s3.delete_object(Bucket=self._bucket, Key=key)

    async def exists(self, key: str) -> bool:
        try:
            await self.size(key)
        except BlobNotFound:
            return False
        return True

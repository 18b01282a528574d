"""Attachments: `/tasks/{id}/files` and `/files/{id}`."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any
from urllib.parse import quote

from litestar import Request, Router, delete, get, post
from litestar.background_tasks import BackgroundTask
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from faros.domain.files import MAX_UPLOAD_SIZE, served_type
from faros.entrypoints.http.deps import authenticated, caller, container_of, limit_by_user
from faros.entrypoints.http.io import file_id_of, task_id_of
from faros.entrypoints.http.schemas import FileInfoOut, FileUploadedOut, out, out_list
from faros.entrypoints.http.uploads import body_limit, single_file_part
from faros.entrypoints.http.validation import IntPath
from faros.ports.rate_limiter import RateLimit

# D18: per user, not per task, so spreading uploads over tasks does not lift the cap.
UPLOAD_LIMIT = RateLimit(20, 3600)


def content_disposition(filename: str) -> str:
    """RFC 6266: a plain quoted name when it is safe ASCII, else the RFC 5987 `filename*`."""
    if filename.isascii() and filename.isprintable() and not any(c in filename for c in '"\\%'):
        return f'attachment; filename="{filename}"'
    return f"attachment; filename*=utf-8''{quote(filename, safe='')}"


async def _close(chunks: AsyncIterator[bytes]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()


async def _relay(chunks: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        # Also reached when reading fails half-way, which ends the response with an error.
        await _close(chunks)


async def _release(relay: AsyncGenerator[bytes, None], chunks: AsyncIterator[bytes]) -> None:
    await relay.aclose()
    # A relay that never started (the client left before the first chunk) has no `finally`.
    await _close(chunks)


def closing_stream(chunks: AsyncIterator[bytes], headers: dict[str, str]) -> Stream:
    """Stream a stored object and release it (open file, S3 connection) however the response
    ends. When the client disconnects, Litestar cancels the sending task and drops the iterator
    unclosed, so the release would wait for the garbage collector; the background task runs
    after the body, disconnect included, and closes the relay and the source."""
    relay = _relay(chunks)
    return Stream(relay, headers=headers, background=BackgroundTask(_release, relay, chunks))


@post(
    "/tasks/{task_id:str}/files",
    status_code=HTTP_201_CREATED,
    request_max_body_size=body_limit(MAX_UPLOAD_SIZE),
)
async def upload_file(request: Request[Any, Any, Any], task_id: IntPath) -> FileUploadedOut:
    async with single_file_part(request, MAX_UPLOAD_SIZE) as part:
        number = task_id_of(task_id)
        await limit_by_user(request, UPLOAD_LIMIT, "upload")
        stored = await container_of(request).files.upload(
            caller(request), number, part.filename, part.content_type, part.chunks
        )
    return out(stored, FileUploadedOut)


@get("/tasks/{task_id:str}/files")
async def list_files(request: Request[Any, Any, Any], task_id: IntPath) -> list[FileInfoOut]:
    files = await container_of(request).files.for_task(caller(request), task_id_of(task_id))
    return out_list(files, FileInfoOut)


@get("/files/{file_id:str}")
async def download_file(request: Request[Any, Any, Any], file_id: IntPath) -> Stream:
    files = container_of(request).files
    stored, size, chunks = await files.open(caller(request), file_id_of(file_id))
    return closing_stream(
        chunks,
        {
            "Content-Type": served_type(stored),
            "Content-Disposition": content_disposition(stored.original_filename),
            "Content-Length": str(size),
            "X-Content-Type-Options": "nosniff",
        },
    )


@delete("/files/{file_id:str}", status_code=HTTP_204_NO_CONTENT)
async def delete_file(request: Request[Any, Any, Any], file_id: IntPath) -> None:
    await container_of(request).files.delete(caller(request), file_id_of(file_id))


router = Router(
    path="/",
    route_handlers=[upload_file, list_files, download_file, delete_file],
    guards=[authenticated],
    tags=["files"],
)

"""Attachments: `/tasks/{id}/files` and `/files/{id}`."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router, delete, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from faros.domain.files import MAX_UPLOAD_SIZE, StoredFile, served_type
from faros.domain.services.files import FileService
from faros.domain.users import User
from faros.entrypoints.http.controllers.created import created
from faros.entrypoints.http.deps import RateLimits, authenticated
from faros.entrypoints.http.error_bodies import Detail, ForbiddenOrRefused
from faros.entrypoints.http.idempotency import Idempotency, idempotent
from faros.entrypoints.http.io import file_id_of, task_id_of
from faros.entrypoints.http.openapi import (
    INVALID,
    PROTECTED,
    RATE_LIMITED,
    STORAGE_DOWN,
    TASK_FORBIDDEN,
    FileDownloadOperation,
    FileUploadOperation,
    binary_headers,
    location,
    protected_errors,
    reply,
    task_errors,
)
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


@idempotent
@post(
    "/tasks/{task_id:str}/files",
    summary="Attach a file to a task",
    description=(
        "The task's owner, or a user it is shared with for edit (20 uploads per hour per "
        "user). One multipart part `file` of at most 10 MiB, of an allowed type its content "
        "matches; writes an `uploaded` file activity entry and answers with `Location: "
        "/files/{id}`."
    ),
    status_code=HTTP_201_CREATED,
    request_max_body_size=body_limit(MAX_UPLOAD_SIZE),
    operation_class=FileUploadOperation,
    response_headers=location("the new file's download", "/files/7"),
    responses={
        **task_errors(writes=True, body=True, needs="edit"),
        400: reply(
            Detail,
            "File type not allowed, too large, or its content does not match its type; a name "
            "with control characters or over 255 characters; a content type that is not one "
            "media type",
        ),
        429: RATE_LIMITED,
        503: STORAGE_DOWN,
    },
)
async def upload_file(
    request: Request[Any, Any, Any],
    task_id: IntPath,
    files: NamedDependency[FileService],
    user: NamedDependency[User],
    limits: NamedDependency[RateLimits],
) -> Response[FileUploadedOut]:
    def respond(stored: StoredFile) -> Response[FileUploadedOut]:
        return created(out(stored, FileUploadedOut), f"/files/{stored.id}")

    # The body is read here, as a stream, so the file is never held whole in memory.
    async with single_file_part(request, MAX_UPLOAD_SIZE) as part:
        number = task_id_of(task_id)
        await limits.by_user(user, UPLOAD_LIMIT, "upload")
        idempotency = Idempotency.of(request)
        chunks = idempotency.hashed(part.filename, part.content_type, part.chunks)
        stored = await files.upload(
            user,
            number,
            part.filename,
            part.content_type,
            chunks,
            idempotency=idempotency.rendering(respond),
        )
    return respond(stored)


@get(
    "/tasks/{task_id:str}/files",
    summary="List a task's files",
    description=("Anyone with view permission on the task: each attachment's name, size and type."),
    responses=task_errors(writes=False),
)
async def list_files(
    task_id: IntPath, files: NamedDependency[FileService], user: NamedDependency[User]
) -> list[FileInfoOut]:
    return out_list(await files.for_task(user, task_id_of(task_id)), FileInfoOut)


@get(
    "/files/{file_id:str}",
    summary="Download a file",
    description=(
        "Anyone with view permission on the file's task. The stored bytes, with "
        "`Content-Disposition: attachment` naming the original file. `Content-Type` is the "
        "file's own type, the canonical one of its extension (text as UTF-8), or "
        "`application/octet-stream` for a file uploaded without a declared type: read the "
        "body as bytes whatever it says."
    ),
    operation_class=FileDownloadOperation,
    response_description="The stored bytes",
    response_headers=binary_headers(
        ResponseHeader(
            name="Content-Disposition",
            value='attachment; filename="report.pdf"',
            example="attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt",
            description=(
                '`attachment`, with the original file name: `filename="..."` when it is plain '
                "ASCII, else RFC 5987 `filename*=utf-8''<percent-encoded>` (RFC 6266)"
            ),
            documentation_only=True,
            required=True,
        )
    ),
    responses={
        **protected_errors(writes=False),
        422: INVALID,
        403: TASK_FORBIDDEN,
        404: reply(Detail, "No such file, or its stored object is missing"),
        503: STORAGE_DOWN,
    },
)
async def download_file(
    file_id: IntPath, files: NamedDependency[FileService], user: NamedDependency[User]
) -> Stream:
    stored, size, chunks = await files.open(user, file_id_of(file_id))
    return closing_stream(
        chunks,
        {
            "Content-Type": served_type(stored),
            "Content-Disposition": content_disposition(stored.original_filename),
            "Content-Length": str(size),
            "X-Content-Type-Options": "nosniff",
        },
    )


@delete(
    "/files/{file_id:str}",
    summary="Delete a file",
    description=(
        "The task's owner, or a user it is shared with for edit. Writes a `deleted` file "
        "activity entry; the stored object is removed in the background."
    ),
    status_code=HTTP_204_NO_CONTENT,
    responses={
        **protected_errors(writes=True),
        422: INVALID,
        403: reply(
            ForbiddenOrRefused,
            "No permission on the file's task (Family A), or a refused cross-site write (D4)",
        ),
        404: reply(Detail, "No such file"),
    },
)
async def delete_file(
    file_id: IntPath, files: NamedDependency[FileService], user: NamedDependency[User]
) -> None:
    await files.delete(user, file_id_of(file_id))


router = Router(
    path="/",
    route_handlers=[upload_file, list_files, download_file, delete_file],
    guards=[authenticated],
    security=PROTECTED,
    tags=["files"],
)

"""Attachments: `/tasks/{id}/files` and `/files/{id}`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Router, delete, get, post
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from faros.entrypoints.http.deps import authenticated, caller, container_of, limit_by_user
from faros.entrypoints.http.io import file_id_of, task_id_of
from faros.entrypoints.http.schemas import FileInfoOut, FileUploadedOut, out, out_list
from faros.entrypoints.http.uploads import single_file_part
from faros.entrypoints.http.validation import IntPath
from faros.ports.rate_limiter import RateLimit

# D18: per user, not per task, so spreading uploads over tasks does not lift the cap.
UPLOAD_LIMIT = RateLimit(20, 3600)
# Past the 10 MiB file cap the domain refuses the stream; this only bounds runaway bodies.
UPLOAD_BODY_LIMIT = 64 * 1024 * 1024


def content_disposition(filename: str) -> str:
    """RFC 6266: a plain quoted name when it is safe ASCII, else the RFC 5987 `filename*`."""
    if filename.isascii() and filename.isprintable() and not any(c in filename for c in '"\\%'):
        return f'attachment; filename="{filename}"'
    return f"attachment; filename*=utf-8''{quote(filename, safe='')}"


@post(
    "/tasks/{task_id:str}/files",
    status_code=HTTP_201_CREATED,
    request_max_body_size=UPLOAD_BODY_LIMIT,
)
async def upload_file(request: Request[Any, Any, Any], task_id: IntPath) -> FileUploadedOut:
    async with single_file_part(request) as part:
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
    return Stream(
        chunks,
        media_type=stored.content_type or "application/octet-stream",
        headers={
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

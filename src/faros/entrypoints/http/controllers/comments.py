"""Comments: `/tasks/{id}/comments` and `/comments/{id}`."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, delete, get, patch, post
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from faros.entrypoints.http.deps import authenticated, caller, container_of
from faros.entrypoints.http.io import comment_id_of, read_body, task_id_of
from faros.entrypoints.http.schemas import CommentIn, CommentOut, out, out_list
from faros.entrypoints.http.validation import IntPath


@post("/tasks/{task_id:str}/comments", status_code=HTTP_201_CREATED, body=CommentIn)
async def add_comment(request: Request[Any, Any, Any], task_id: IntPath) -> CommentOut:
    data = await read_body(request, CommentIn)
    comment = await container_of(request).comments.add(
        caller(request), task_id_of(task_id), data.content
    )
    return out(comment, CommentOut)


@get("/tasks/{task_id:str}/comments")
async def list_comments(request: Request[Any, Any, Any], task_id: IntPath) -> list[CommentOut]:
    comments = await container_of(request).comments.for_task(caller(request), task_id_of(task_id))
    return out_list(comments, CommentOut)


@patch("/comments/{comment_id:str}", body=CommentIn)
async def edit_comment(request: Request[Any, Any, Any], comment_id: IntPath) -> CommentOut:
    data = await read_body(request, CommentIn)
    comment = await container_of(request).comments.edit(
        caller(request), comment_id_of(comment_id), data.content
    )
    return out(comment, CommentOut)


@delete("/comments/{comment_id:str}", status_code=HTTP_204_NO_CONTENT)
async def delete_comment(request: Request[Any, Any, Any], comment_id: IntPath) -> None:
    await container_of(request).comments.delete(caller(request), comment_id_of(comment_id))


router = Router(
    path="/",
    route_handlers=[add_comment, list_comments, edit_comment, delete_comment],
    guards=[authenticated],
    tags=["comments"],
)

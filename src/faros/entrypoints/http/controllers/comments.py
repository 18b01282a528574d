"""Comments: `/tasks/{id}/comments` and `/comments/{id}`."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from faros.domain.comments import Comment
from faros.domain.services.comments import CommentService
from faros.domain.users import User
from faros.entrypoints.http.controllers.created import created
from faros.entrypoints.http.deps import authenticated
from faros.entrypoints.http.error_bodies import Detail, ForbiddenOrRefused
from faros.entrypoints.http.idempotency import idempotent, idempotent_call
from faros.entrypoints.http.io import comment_id_of, contract_body, task_id_of
from faros.entrypoints.http.openapi import (
    INVALID,
    PROTECTED,
    location,
    protected_errors,
    reply,
    task_errors,
)
from faros.entrypoints.http.schemas import CommentIn, CommentOut, out, out_list
from faros.entrypoints.http.validation import IntPath

FORBIDDEN = reply(
    ForbiddenOrRefused,
    "No access to the comment's task (Family A), not its author (Family B), or a refused "
    "cross-site write (D4)",
)
NOT_FOUND = reply(Detail, "Comment not found")


@idempotent
@post(
    "/tasks/{task_id:str}/comments",
    summary="Comment on a task",
    description=(
        "Anyone with view permission on the task. Writes a `created` comment activity entry, "
        "and a comment by anyone but the owner e-mails the owner if their preferences allow; "
        "answers with `Location: /tasks/{task_id}/comments`."
    ),
    status_code=HTTP_201_CREATED,
    # A comment has no URL of its own to read it at: the task's comment list holds it.
    response_headers=location("the task's comments, the new one among them", "/tasks/42/comments"),
    responses=task_errors(writes=True, body=True),
)
async def add_comment(
    task_id: IntPath,
    data: Annotated[CommentIn, contract_body(CommentIn)],
    comments: NamedDependency[CommentService],
    user: NamedDependency[User],
    request: Request[Any, Any, Any],
) -> Response[CommentOut]:
    def respond(comment: Comment) -> Response[CommentOut]:
        return created(out(comment, CommentOut), f"/tasks/{comment.task_id}/comments")

    call = await idempotent_call(request, respond)
    return respond(await comments.add(user, task_id_of(task_id), data.content, call))


@get(
    "/tasks/{task_id:str}/comments",
    summary="List a task's comments",
    description=(
        "Anyone with view permission on the task; each comment carries its author's username."
    ),
    responses=task_errors(writes=False),
)
async def list_comments(
    task_id: IntPath, comments: NamedDependency[CommentService], user: NamedDependency[User]
) -> list[CommentOut]:
    return out_list(await comments.for_task(user, task_id_of(task_id)), CommentOut)


@patch(
    "/comments/{comment_id:str}",
    summary="Edit a comment",
    description=(
        "The comment's author only. Replaces its content, sets `updated_at` and writes an "
        "`updated` comment activity entry; no e-mail."
    ),
    responses={**protected_errors(writes=True, body=True), 403: FORBIDDEN, 404: NOT_FOUND},
)
async def edit_comment(
    comment_id: IntPath,
    data: Annotated[CommentIn, contract_body(CommentIn)],
    comments: NamedDependency[CommentService],
    user: NamedDependency[User],
) -> CommentOut:
    comment = await comments.edit(user, comment_id_of(comment_id), data.content)
    return out(comment, CommentOut)


@delete(
    "/comments/{comment_id:str}",
    summary="Delete a comment",
    description=(
        "The comment's author, or the owner of its task. Writes a `deleted` comment activity "
        "entry; no e-mail."
    ),
    status_code=HTTP_204_NO_CONTENT,
    responses={**protected_errors(writes=True), 422: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
)
async def delete_comment(
    comment_id: IntPath, comments: NamedDependency[CommentService], user: NamedDependency[User]
) -> None:
    await comments.delete(user, comment_id_of(comment_id))


router = Router(
    path="/",
    route_handlers=[add_comment, list_comments, edit_comment, delete_comment],
    guards=[authenticated],
    security=PROTECTED,
    tags=["comments"],
)

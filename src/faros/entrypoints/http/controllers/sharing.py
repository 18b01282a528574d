"""Task sharing: `/tasks/{id}/shares`, `/tasks/{id}/share[/{username}]`."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from faros.domain.services.sharing import SharingService
from faros.domain.sharing import Share
from faros.domain.users import User
from faros.entrypoints.http.controllers.created import created
from faros.entrypoints.http.deps import authenticated
from faros.entrypoints.http.error_bodies import Detail, TaskOrOtherNotFound
from faros.entrypoints.http.idempotency import idempotent, idempotent_call
from faros.entrypoints.http.io import contract_body, task_id_of
from faros.entrypoints.http.openapi import PROTECTED, location, reply, task_errors
from faros.entrypoints.http.schemas import ShareIn, ShareOut, SharePermissionIn, out, out_list
from faros.entrypoints.http.validation import IntPath

SHARE_NOT_FOUND = reply(
    TaskOrOtherNotFound,
    "Task not found (Family A), or no such user / no such share (Family B)",
)


@get(
    "/{task_id:str}/shares",
    summary="List a task's shares",
    description=("The task's owner only: who the task is shared with, and with which permission."),
    responses=task_errors(writes=False, needs="owner"),
)
async def list_shares(
    task_id: IntPath, sharing: NamedDependency[SharingService], user: NamedDependency[User]
) -> list[ShareOut]:
    return out_list(await sharing.shares(user, task_id_of(task_id)), ShareOut)


@idempotent
@post(
    "/{task_id:str}/share",
    summary="Share a task",
    description=(
        "The task's owner only. Gives another user `view` or `edit` permission, writes a "
        "`shared` activity entry and e-mails that user if their preferences allow; answers "
        "with `Location: /tasks/{task_id}/shares`."
    ),
    status_code=HTTP_201_CREATED,
    # A share is read in its task's share list (there is no URL of one share to GET).
    response_headers=location("the task's shares, the new one among them", "/tasks/42/shares"),
    responses={
        **task_errors(writes=True, body=True, needs="owner"),
        400: reply(Detail, "Cannot share task with yourself"),
        404: SHARE_NOT_FOUND,
        409: reply(Detail, "Task already shared with this user"),
    },
)
async def share_task(
    task_id: IntPath,
    data: Annotated[ShareIn, contract_body(ShareIn)],
    sharing: NamedDependency[SharingService],
    user: NamedDependency[User],
    request: Request[Any, Any, Any],
) -> Response[ShareOut]:
    def respond(share: Share) -> Response[ShareOut]:
        return created(out(share, ShareOut), f"/tasks/{share.task_id}/shares")

    share = await sharing.share(
        user,
        task_id_of(task_id),
        data.shared_with_username,
        data.permission,
        await idempotent_call(request, respond),
    )
    return respond(share)


@put(
    "/{task_id:str}/share/{username:str}",
    summary="Change a share's permission",
    description=(
        "The task's owner only. Sets the user's permission to `view` or `edit`; no activity "
        "entry, no e-mail."
    ),
    responses={**task_errors(writes=True, body=True, needs="owner"), 404: SHARE_NOT_FOUND},
)
async def change_share(
    task_id: IntPath,
    username: FromPath[str],
    data: Annotated[SharePermissionIn, contract_body(SharePermissionIn)],
    sharing: NamedDependency[SharingService],
    user: NamedDependency[User],
) -> ShareOut:
    share = await sharing.change_permission(user, task_id_of(task_id), username, data.permission)
    return out(share, ShareOut)


@delete(
    "/{task_id:str}/share/{username:str}",
    summary="Stop sharing a task with a user",
    description=(
        "The task's owner only. Removes the user's access and writes an `unshared` activity "
        "entry; no e-mail."
    ),
    status_code=HTTP_204_NO_CONTENT,
    responses={**task_errors(writes=True, needs="owner"), 404: SHARE_NOT_FOUND},
)
async def unshare_task(
    task_id: IntPath,
    username: FromPath[str],
    sharing: NamedDependency[SharingService],
    user: NamedDependency[User],
) -> None:
    await sharing.unshare(user, task_id_of(task_id), username)


router = Router(
    path="/tasks",
    route_handlers=[list_shares, share_task, change_share, unshare_task],
    guards=[authenticated],
    security=PROTECTED,
    tags=["sharing"],
)

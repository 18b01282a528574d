"""Task sharing: `/tasks/{id}/shares`, `/tasks/{id}/share[/{username}]`."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, delete, get, post, put
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from faros.entrypoints.http.deps import authenticated, caller, container_of
from faros.entrypoints.http.io import read_body, task_id_of
from faros.entrypoints.http.schemas import ShareIn, ShareOut, SharePermissionIn, out, out_list
from faros.entrypoints.http.validation import IntPath


@get("/{task_id:str}/shares")
async def list_shares(request: Request[Any, Any, Any], task_id: IntPath) -> list[ShareOut]:
    shares = await container_of(request).sharing.shares(caller(request), task_id_of(task_id))
    return out_list(shares, ShareOut)


@post("/{task_id:str}/share", status_code=HTTP_201_CREATED, body=ShareIn)
async def share_task(request: Request[Any, Any, Any], task_id: IntPath) -> ShareOut:
    data = await read_body(request, ShareIn)
    share = await container_of(request).sharing.share(
        caller(request), task_id_of(task_id), data.shared_with_username, data.permission
    )
    return out(share, ShareOut)


@put("/{task_id:str}/share/{username:str}", body=SharePermissionIn)
async def change_share(
    request: Request[Any, Any, Any], task_id: IntPath, username: str
) -> ShareOut:
    data = await read_body(request, SharePermissionIn)
    share = await container_of(request).sharing.change_permission(
        caller(request), task_id_of(task_id), username, data.permission
    )
    return out(share, ShareOut)


@delete("/{task_id:str}/share/{username:str}", status_code=HTTP_204_NO_CONTENT)
async def unshare_task(request: Request[Any, Any, Any], task_id: IntPath, username: str) -> None:
    await container_of(request).sharing.unshare(caller(request), task_id_of(task_id), username)


router = Router(
    path="/tasks",
    route_handlers=[list_shares, share_task, change_share, unshare_task],
    guards=[authenticated],
    tags=["sharing"],
)

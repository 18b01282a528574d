"""`/users`: profile, password change, search, avatars."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, get, patch, post
from litestar.params import PathParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK

from faros.domain.files import MAX_AVATAR_SIZE
from faros.entrypoints.http.controllers.files import closing_stream
from faros.entrypoints.http.deps import (
    authenticated,
    caller,
    container_of,
    limit_by_user,
    set_auth_cookie,
)
from faros.entrypoints.http.io import read_body, read_query, user_id_of
from faros.entrypoints.http.password_limits import CHANGE_PASSWORD_LIMIT, spend_password_budget
from faros.entrypoints.http.schemas import (
    AvatarOut,
    ChangePasswordIn,
    MessageOut,
    UserProfileOut,
    UserRefOut,
    UserSearchQuery,
    out,
    out_list,
)
from faros.entrypoints.http.uploads import body_limit, single_file_part
from faros.entrypoints.http.validation import IntPath


@get("/me")
async def profile(request: Request[Any, Any, Any]) -> UserProfileOut:
    return out(caller(request), UserProfileOut)


@patch("/me/change-password", body=ChangePasswordIn)
async def change_password(request: Request[Any, Any, Any]) -> Response[MessageOut]:
    data = await read_body(request, ChangePasswordIn)
    user = caller(request)
    await limit_by_user(request, CHANGE_PASSWORD_LIMIT, "change-password")
    await spend_password_budget(request, account=user.username)
    issued = await container_of(request).accounts.change_password(
        user, data.current_password, data.new_password
    )
    response = Response(MessageOut("Password changed successfully"))
    # Older tokens are void now (D3); the cookie client keeps its session with a fresh one.
    set_auth_cookie(request, response, issued.token)
    return response


@get("/search", query=UserSearchQuery)
async def search_users(request: Request[Any, Any, Any]) -> list[UserRefOut]:
    params = read_query(request, UserSearchQuery)
    found = await container_of(request).accounts.search(caller(request), params.query, params.limit)
    return out_list(found, UserRefOut)


@post("/me/avatar", status_code=HTTP_200_OK, request_max_body_size=body_limit(MAX_AVATAR_SIZE))
async def upload_avatar(request: Request[Any, Any, Any]) -> AvatarOut:
    async with single_file_part(request, MAX_AVATAR_SIZE) as part:
        url = await container_of(request).files.upload_avatar(
            caller(request), part.filename, part.content_type, part.chunks
        )
    return AvatarOut(url)


@get("/{user_id:str}/{segment:str}", include_in_schema=True)
async def avatar(
    request: Request[Any, Any, Any], user_id: IntPath, segment: Annotated[str, PathParameter()]
) -> Stream:
    files = container_of(request).files
    content_type, size, chunks = await files.open_avatar(user_id_of(user_id), segment)
    return closing_stream(
        chunks,
        {
            "Content-Type": content_type,
            "Content-Length": str(size),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "public, max-age=60",
        },
    )


protected = Router(
    path="/users",
    route_handlers=[profile, change_password, search_users, upload_avatar],
    guards=[authenticated],
    tags=["users"],
)
public = Router(path="/users", route_handlers=[avatar], tags=["users"])

"""`/users`: profile, password change, search, avatars."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, get, patch, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK

from faros.domain.files import MAX_AVATAR_SIZE
from faros.domain.services.accounts import AccountService
from faros.domain.services.files import FileService
from faros.domain.users import User
from faros.entrypoints.http.controllers.files import closing_stream
from faros.entrypoints.http.deps import QUERY_FIRST, RateLimits, authenticated, set_auth_cookie
from faros.entrypoints.http.error_bodies import Detail
from faros.entrypoints.http.io import contract_body, user_id_of
from faros.entrypoints.http.openapi import (
    INVALID,
    PROTECTED,
    STORAGE_DOWN,
    AvatarDownloadOperation,
    AvatarUploadOperation,
    binary_headers,
    protected_errors,
    reply,
)
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
from faros.entrypoints.settings import Settings


@get(
    "/me",
    summary="Get your profile",
    description=(
        "Any authenticated user. Browser clients also use it to learn whether their cookie "
        "still logs them in."
    ),
    responses=protected_errors(writes=False),
)
async def profile(user: NamedDependency[User]) -> UserProfileOut:
    return out(user, UserProfileOut)


@patch(
    "/me/change-password",
    summary="Change your password",
    description=(
        "Any authenticated user who gives their current password. Every earlier token of the "
        "account stops working; the answer sets a fresh auth cookie, so a browser stays "
        "logged in (bearer clients log in again)."
    ),
    responses={
        **protected_errors(writes=True, body=True, limited=True),
        400: reply(Detail, "Current password is incorrect (D9)"),
    },
)
async def change_password(
    data: Annotated[ChangePasswordIn, contract_body(ChangePasswordIn)],
    accounts: NamedDependency[AccountService],
    user: NamedDependency[User],
    limits: NamedDependency[RateLimits],
    client: NamedDependency[str],
    settings: NamedDependency[Settings],
) -> Response[MessageOut]:
    await limits.by_user(user, CHANGE_PASSWORD_LIMIT, "change-password")
    await spend_password_budget(limits, client, account=user.username)
    issued = await accounts.change_password(user, data.current_password, data.new_password)
    response = Response(MessageOut("Password changed successfully"))
    # Older tokens are void now (D3); the cookie client keeps its session with a fresh one.
    set_auth_cookie(settings, response, issued.token)
    return response


@get(
    "/search",
    summary="Find users by name",
    description=(
        "Any authenticated user: up to `limit` users (id and username only) whose username "
        "contains `query`, case-insensitively, the caller excepted."
    ),
    query=UserSearchQuery,
    dependencies=QUERY_FIRST,
    responses={**protected_errors(writes=False), 422: INVALID},
)
async def search_users(
    params: NamedDependency[UserSearchQuery],
    accounts: NamedDependency[AccountService],
    user: NamedDependency[User],
) -> list[UserRefOut]:
    return out_list(await accounts.search(user, params.query, params.limit), UserRefOut)


@post(
    "/me/avatar",
    summary="Upload your avatar",
    description=(
        "Any authenticated user. One multipart part `file`: a JPEG, PNG, GIF or WebP image of "
        "at most 5 MiB. Its format is read from its bytes, whatever type the part declares "
        "(`application/octet-stream` is fine; a part must declare one, D20); a file name's "
        "extension, if any, must name that format, and a name without one gets it. The image "
        "replaces the previous avatar, whose object is removed in the background; the answer "
        "is its public URL."
    ),
    status_code=HTTP_200_OK,
    request_max_body_size=body_limit(MAX_AVATAR_SIZE),
    operation_class=AvatarUploadOperation,
    responses={
        **protected_errors(writes=True, body=True),
        400: reply(
            Detail,
            "The bytes are not a PNG, JPEG, GIF or WebP image, or the part declares no type "
            "(`File must be an image`); the "
            "name's extension is not an avatar type or not the image's format; too large; a "
            "name with control characters or over 255 characters",
        ),
        503: STORAGE_DOWN,
    },
)
async def upload_avatar(
    request: Request[Any, Any, Any],
    files: NamedDependency[FileService],
    user: NamedDependency[User],
) -> AvatarOut:
    # The body is read here, as a stream, so the image is never held whole in memory.
    async with single_file_part(request, MAX_AVATAR_SIZE) as part:
        url = await files.upload_avatar(user, part.filename, part.content_type, part.chunks)
    return AvatarOut(url)


@get(
    "/{user_id:str}/{segment:str}",
    summary="Get a user's avatar",
    description=(
        "Anyone, without credentials (so `<img src>` works): the image at the URL the avatar "
        "upload answered. `Content-Type` is the image's format (PNG, JPEG, GIF or WebP), read "
        "from its bytes when it was uploaded."
    ),
    operation_class=AvatarDownloadOperation,
    response_description=(
        "The avatar image, sent as `image/png`, `image/jpeg`, `image/gif` or `image/webp` (the "
        "`application/octet-stream` entry is only there for generators that read no other type "
        "as bytes)"
    ),
    response_headers=binary_headers(
        ResponseHeader(
            name="Cache-Control",
            value="public, max-age=60",
            description=(
                "`public, max-age=60`: caches may keep the image a minute; clients add "
                "`?t=<timestamp>` to the URL to show a new avatar at once"
            ),
            documentation_only=True,
            required=True,
        )
    ),
    responses={
        422: INVALID,
        404: reply(Detail, "No such avatar (`segment` is `avatar.<ext>`)"),
        503: STORAGE_DOWN,
    },
)
async def get_avatar(
    user_id: IntPath, segment: FromPath[str], files: NamedDependency[FileService]
) -> Stream:
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
    security=PROTECTED,
    tags=["users"],
)
public = Router(path="/users", route_handlers=[get_avatar], tags=["users"])

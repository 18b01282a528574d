"""`/auth/*`: register, login (token and cookie), logout, password reset."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from faros.entrypoints.http.deps import (
    clear_auth_cookie,
    client_address,
    container_of,
    limit_by_ip,
    presented_token,
    set_auth_cookie,
)
from faros.entrypoints.http.io import read_body
from faros.entrypoints.http.password_limits import spend_password_budget
from faros.entrypoints.http.schemas import (
    LoginIn,
    MessageOut,
    PasswordResetRequestIn,
    PasswordResetVerifyIn,
    RegisterIn,
    TokenOut,
    UserCreatedOut,
    out,
)
from faros.entrypoints.http.security import ALWAYS_CHECK_ORIGIN
from faros.ports.rate_limiter import RateLimit

REGISTER_LIMIT = RateLimit(10, 3600)
LOGIN_LIMIT = RateLimit(5, 60)
RESET_REQUEST_LIMIT = RateLimit(1, 60)
RESET_VERIFY_LIMIT = RateLimit(5, 60)
RESET_SENT = "If email exists, password reset sent"


@post(
    "/register",
    status_code=HTTP_201_CREATED,
    body=RegisterIn,
    opt={ALWAYS_CHECK_ORIGIN: True},
)
async def register(request: Request[Any, Any, Any]) -> UserCreatedOut:
    data = await read_body(request, RegisterIn)
    await limit_by_ip(request, REGISTER_LIMIT, "register")
    await spend_password_budget(request)
    user = await container_of(request).accounts.register(
        data.username, data.email, data.password, client=client_address(request)
    )
    return out(user, UserCreatedOut)


@post("/login", status_code=HTTP_200_OK, body=LoginIn, opt={ALWAYS_CHECK_ORIGIN: True})
async def login(request: Request[Any, Any, Any]) -> Response[TokenOut]:
    data = await read_body(request, LoginIn)
    await limit_by_ip(request, LOGIN_LIMIT, "login")
    await spend_password_budget(request, account=data.username)
    issued = await container_of(request).accounts.login(
        data.username, data.password, client=client_address(request)
    )
    response = Response(TokenOut(access_token=issued.token))
    set_auth_cookie(request, response, issued.token)
    return response


@post("/logout", status_code=HTTP_200_OK)
async def logout(request: Request[Any, Any, Any]) -> Response[MessageOut]:
    await container_of(request).accounts.logout(presented_token(request))
    response = Response(MessageOut("Logged out successfully"))
    clear_auth_cookie(request, response)
    return response


@post("/password-reset/request", status_code=HTTP_200_OK, body=PasswordResetRequestIn)
async def request_password_reset(request: Request[Any, Any, Any]) -> MessageOut:
    data = await read_body(request, PasswordResetRequestIn)
    await limit_by_ip(request, RESET_REQUEST_LIMIT, "password-reset-request")
    await container_of(request).accounts.request_password_reset(data.email)
    return MessageOut(RESET_SENT)


@post("/password-reset/verify", status_code=HTTP_200_OK, body=PasswordResetVerifyIn)
async def verify_password_reset(request: Request[Any, Any, Any]) -> MessageOut:
    data = await read_body(request, PasswordResetVerifyIn)
    await limit_by_ip(request, RESET_VERIFY_LIMIT, "password-reset-verify")
    # Per address only: whose password it is, only redeeming the token tells.
    await spend_password_budget(request)
    await container_of(request).accounts.reset_password(
        data.token, data.new_password, client=client_address(request)
    )
    return MessageOut("Password updated successfully. You can now log in with your new password.")


router = Router(
    path="/auth",
    route_handlers=[register, login, logout, request_password_reset, verify_password_reset],
    tags=["auth"],
)

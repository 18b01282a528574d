"""`/auth/*`: register, login (token and cookie), logout, password reset."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, Router, post
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from faros.domain.services.accounts import AccountService
from faros.entrypoints.http.controllers.created import created
from faros.entrypoints.http.deps import RateLimits, clear_auth_cookie, set_auth_cookie
from faros.entrypoints.http.error_bodies import Detail, DuplicateUserBody, FailedLoginBody
from faros.entrypoints.http.io import contract_body
from faros.entrypoints.http.openapi import (
    AUTH_COOKIE_SET,
    OPTIONALLY_AUTHENTICATED,
    location,
    public_errors,
    reply,
)
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
from faros.entrypoints.settings import Settings
from faros.ports.rate_limiter import RateLimit

REGISTER_LIMIT = RateLimit(10, 3600)
LOGIN_LIMIT = RateLimit(5, 60)
RESET_REQUEST_LIMIT = RateLimit(1, 60)
RESET_VERIFY_LIMIT = RateLimit(5, 60)
RESET_SENT = "If email exists, password reset sent"


@post(
    "/register",
    summary="Create an account",
    description=(
        "Anyone (10 per hour per address). Creates the user and answers its public fields, "
        "with `Location: /users/me`; it logs nobody in, sends no e-mail and writes no "
        "activity entry."
    ),
    status_code=HTTP_201_CREATED,
    opt={ALWAYS_CHECK_ORIGIN: True},
    # The new account is read at the profile URL, once logged in.
    response_headers=location("the new account's profile (after login)", "/users/me"),
    responses={
        **public_errors(writes=True, body=True, limited=True),
        409: reply(DuplicateUserBody, "Username or e-mail already registered"),
    },
)
async def register(
    data: Annotated[RegisterIn, contract_body(RegisterIn)],
    accounts: NamedDependency[AccountService],
    limits: NamedDependency[RateLimits],
    client: NamedDependency[str],
) -> Response[UserCreatedOut]:
    await limits.by_ip(client, REGISTER_LIMIT, "register")
    await spend_password_budget(limits, client)
    user = await accounts.register(data.username, data.email, data.password, client=client)
    return created(out(user, UserCreatedOut), "/users/me")


@post(
    "/login",
    summary="Log in",
    description=(
        "Anyone (5 per minute per address). Answers a bearer token and sets the same token as "
        "the `HttpOnly` auth cookie, so API clients and browsers both stay logged in; writes "
        "no activity entry."
    ),
    status_code=HTTP_200_OK,
    opt={ALWAYS_CHECK_ORIGIN: True},
    response_headers=AUTH_COOKIE_SET,
    responses={
        **public_errors(writes=True, body=True, limited=True),
        401: reply(FailedLoginBody, "Invalid username or password (`WWW-Authenticate: Bearer`)"),
    },
)
async def login(
    data: Annotated[LoginIn, contract_body(LoginIn)],
    accounts: NamedDependency[AccountService],
    limits: NamedDependency[RateLimits],
    client: NamedDependency[str],
    settings: NamedDependency[Settings],
) -> Response[TokenOut]:
    await limits.by_ip(client, LOGIN_LIMIT, "login")
    await spend_password_budget(limits, client, account=data.username)
    issued = await accounts.login(data.username, data.password, client=client)
    response = Response(TokenOut(access_token=issued.token))
    set_auth_cookie(settings, response, issued.token)
    return response


@post(
    "/logout",
    summary="Log out",
    description=(
        "Anyone. The bearer token or auth cookie sent, if any, is revoked until it would have "
        "expired, and the cookie is cleared; answers 200 with or without a valid token."
    ),
    status_code=HTTP_200_OK,
    # Revokes the token it is sent; without one it still answers 200 (API.md §3.2).
    security=OPTIONALLY_AUTHENTICATED,
    responses=public_errors(writes=True),
)
async def logout(
    token: NamedDependency[str | None],
    accounts: NamedDependency[AccountService],
    settings: NamedDependency[Settings],
) -> Response[MessageOut]:
    await accounts.logout(token)
    response = Response(MessageOut("Logged out successfully"))
    clear_auth_cookie(settings, response)
    return response


@post(
    "/password-reset/request",
    summary="Request a password-reset e-mail",
    description=(
        "Anyone (1 per minute per address). If an account has this e-mail address, it is "
        "e-mailed a single-use reset link valid for 30 minutes that voids any earlier one; "
        "the answer is the same whether or not the address is known."
    ),
    status_code=HTTP_200_OK,
    responses=public_errors(writes=True, body=True, limited=True),
)
async def request_password_reset(
    data: Annotated[PasswordResetRequestIn, contract_body(PasswordResetRequestIn)],
    accounts: NamedDependency[AccountService],
    limits: NamedDependency[RateLimits],
    client: NamedDependency[str],
) -> MessageOut:
    await limits.by_ip(client, RESET_REQUEST_LIMIT, "password-reset-request")
    await accounts.request_password_reset(data.email)
    return MessageOut(RESET_SENT)


@post(
    "/password-reset/verify",
    summary="Set a new password with a reset token",
    description=(
        "Anyone holding the token of a reset e-mail (5 per minute per address). Replaces the "
        "password, uses up the token and makes every earlier token of the account stop "
        "working; no e-mail, no activity entry."
    ),
    status_code=HTTP_200_OK,
    responses={
        **public_errors(writes=True, body=True, limited=True),
        400: reply(Detail, "Invalid or expired reset token"),
    },
)
async def verify_password_reset(
    data: Annotated[PasswordResetVerifyIn, contract_body(PasswordResetVerifyIn)],
    accounts: NamedDependency[AccountService],
    limits: NamedDependency[RateLimits],
    client: NamedDependency[str],
) -> MessageOut:
    await limits.by_ip(client, RESET_VERIFY_LIMIT, "password-reset-verify")
    # Per address only: whose password it is, only redeeming the token tells.
    await spend_password_budget(limits, client)
    await accounts.reset_password(data.token, data.new_password, client=client)
    return MessageOut("Password updated successfully. You can now log in with your new password.")


router = Router(
    path="/auth",
    route_handlers=[register, login, logout, request_password_reset, verify_password_reset],
    tags=["auth"],
)

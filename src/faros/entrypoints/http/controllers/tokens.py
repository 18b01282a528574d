"""`/tokens`: personal access tokens for scripts and services (issue 17).

Login only: an access token cannot use these routes (scopes.py), so a leaked one can neither
mint more nor hide by revoking the others.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from faros.domain.api_tokens import CreatedToken
from faros.domain.errors import NotFound
from faros.domain.services.api_tokens import TOKEN_NOT_FOUND, ApiTokenService
from faros.domain.users import User
from faros.entrypoints.http.controllers.created import created
from faros.entrypoints.http.deps import RateLimits, authenticated
from faros.entrypoints.http.error_bodies import Detail
from faros.entrypoints.http.idempotency import idempotent, idempotent_call
from faros.entrypoints.http.io import contract_body
from faros.entrypoints.http.openapi import (
    INVALID,
    PROTECTED,
    RATE_LIMITED,
    location,
    protected_errors,
    reply,
)
from faros.entrypoints.http.schemas import out_list
from faros.entrypoints.http.token_schemas import (
    AccessTokenCreatedOut,
    AccessTokenCreateIn,
    AccessTokenOut,
)
from faros.entrypoints.http.validation import IntPath, path_int
from faros.ports.rate_limiter import RateLimit

CREATE_LIMIT = RateLimit(20, 3600)
NOT_FOUND = reply(Detail, "The caller has no token with this id")


def _not_found(_: int) -> NotFound:
    return NotFound(TOKEN_NOT_FOUND)


@idempotent
@post(
    "/",
    summary="Create an access token",
    description=(
        "A logged-in user (20 per hour) makes a personal access token for a script or service: "
        "a name, the scopes it may use and its lifetime in days (1 to 365, required). The "
        "answer is the only place the secret `token` ever appears: FAROS stores its SHA-256. "
        "At most 50 tokens per account (409). Answers with `Location: /tokens`. With an "
        "`Idempotency-Key`, a retry gets the same answer, the same `token` included: that "
        "secret is derived from the request by a server key rather than drawn at random, and "
        "the kept answer holds a placeholder instead, so the secret is still stored nowhere."
    ),
    status_code=HTTP_201_CREATED,
    response_headers=location("the caller's token list, the new one among them", "/tokens"),
    responses={
        **protected_errors(writes=True, body=True),
        409: reply(Detail, "The account already has 50 tokens"),
        429: RATE_LIMITED,
    },
)
async def create_token(
    data: Annotated[AccessTokenCreateIn, contract_body(AccessTokenCreateIn)],
    api_tokens: NamedDependency[ApiTokenService],
    user: NamedDependency[User],
    limits: NamedDependency[RateLimits],
    request: Request[Any, Any, Any],
) -> Response[AccessTokenCreatedOut]:
    def respond(made: CreatedToken) -> Response[AccessTokenCreatedOut]:
        token = made.token
        body = AccessTokenCreatedOut(
            id=token.id,
            name=token.name,
            scopes=list(token.scopes),
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            token=made.secret,
        )
        # A token has no URL of its own to read it at: the list holds it.
        return created(body, "/tokens")

    await limits.by_user(user, CREATE_LIMIT, "create-token")
    call = await idempotent_call(request, respond)
    made = await api_tokens.create(user, data.name, data.scopes, data.expires_in_days, call)
    return respond(made)


@get(
    "/",
    summary="List your access tokens",
    description=(
        "A logged-in user's tokens, newest first, expired ones included until revoked; never "
        "their secrets. `last_used_at` is recorded at most once a minute."
    ),
    responses=protected_errors(writes=False),
)
async def list_tokens(
    api_tokens: NamedDependency[ApiTokenService], user: NamedDependency[User]
) -> list[AccessTokenOut]:
    return out_list(await api_tokens.list(user), AccessTokenOut)


@delete(
    "/{token_id:str}",
    summary="Revoke an access token",
    description=(
        "A logged-in user revokes one of their tokens: it is refused at once, by every FAROS "
        "process (within a second), and gone from the list."
    ),
    status_code=HTTP_204_NO_CONTENT,
    responses={**protected_errors(writes=True), 404: NOT_FOUND, 422: INVALID},
)
async def revoke_token(
    token_id: IntPath, api_tokens: NamedDependency[ApiTokenService], user: NamedDependency[User]
) -> None:
    await api_tokens.revoke(user, path_int("token_id", token_id, not_found=_not_found))


router = Router(
    path="/tokens",
    route_handlers=[create_token, list_tokens, revoke_token],
    guards=[authenticated],
    security=PROTECTED,
    tags=["tokens"],
)

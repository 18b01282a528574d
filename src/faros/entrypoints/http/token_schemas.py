"""The wire shapes of `/tokens` (personal access tokens).

`AccessToken…`, not `Token…`: `TokenOut` is already the login answer's component.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from msgspec import Meta, Struct

from faros.domain import api_tokens
from faros.entrypoints.http.schemas import Moment, trimmed
from faros.entrypoints.http.validation.plugin import enum_component

Scope = Annotated[
    api_tokens.Scope,
    enum_component(
        "Scope",
        "What an access token may do: read or write tasks (with their tags and shares), write "
        "comments, read or write files, read the activity log, read the account",
    ),
]
Scopes = Annotated[
    list[Scope],
    Meta(
        min_length=1,
        max_length=len(api_tokens.SCOPES),
        description="At least one scope; repeats count once",
    ),
]
ExpiresInDays = Annotated[
    int,
    Meta(
        ge=api_tokens.MIN_DAYS,
        le=api_tokens.MAX_DAYS,
        description="Days until the token stops working: 1 to 365, no default",
    ),
]
TokenSecret = Annotated[
    str,
    Meta(
        pattern="^faros_pat_[A-Za-z0-9_-]{43}$",
        description=(
            "The secret, shown this once (FAROS keeps only its SHA-256): send it as "
            "`Authorization: Bearer faros_pat_…`"
        ),
    ),
]


class AccessTokenCreateIn(Struct):
    name: Annotated[str, trimmed(1, api_tokens.NAME_MAX_LENGTH)]
    scopes: Scopes
    expires_in_days: ExpiresInDays


class AccessTokenOut(Struct):
    id: int
    name: str
    scopes: list[Scope]
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: Moment | None


class AccessTokenCreatedOut(Struct):
    id: int
    name: str
    scopes: list[Scope]
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: Moment | None
    token: TokenSecret

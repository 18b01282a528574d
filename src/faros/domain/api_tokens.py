"""Personal access tokens: what scripts and services sign in with instead of a password.

A token is a random secret, shown once when it is made; FAROS keeps only its SHA-256. A slow
password hash (argon2) guards secrets a person chose and an attacker could guess; these carry
256 random bits, so no guess can find one from its digest, and a fast digest lets the server
find the token by an index lookup on every request instead of hashing for tens of
milliseconds. A token speaks for its user within its scopes until it expires (mandatory, at
most a year) or is revoked; it never manages credentials: tokens, webhooks, the password and
the account itself need a login.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal, get_args

from faros.domain.errors import Forbidden

PREFIX: Final = "faros_pat_"
"""Every token starts with it: a leaked one is recognisable (secret scanners match on it), and
the server tells it from a JWT without decoding anything."""
SECRET_BYTES: Final = 32  # 256 bits of randomness, as the issue asks
MIN_DAYS: Final = 1
MAX_DAYS: Final = 365
NAME_MAX_LENGTH: Final = 100
MAX_TOKENS_PER_USER: Final = 50
TOUCH_INTERVAL: Final = timedelta(minutes=1)
"""`last_used_at` moves at most this often, so a busy script does not write on each request."""


Scope = Literal[
    "tasks:read",
    "tasks:write",
    "comments:write",
    "files:read",
    "files:write",
    "activity:read",
    "account:read",
]
SCOPES: Final[tuple[Scope, ...]] = get_args(Scope)
"""Every scope, in the order they are listed and stored."""

LoginOnly = Literal["login"]
LOGIN_ONLY: Final[LoginOnly] = "login"
"""What a route needs instead of a scope when no token may use it (credentials, the account)."""

Need = Scope | LoginOnly
"""A route's requirement: a scope, or `LOGIN_ONLY`."""


@dataclass(slots=True, frozen=True)
class NewApiToken:
    user_id: int
    name: str
    scopes: tuple[Scope, ...]
    token_hash: str
    created_at: datetime
    expires_at: datetime


@dataclass(slots=True, frozen=True)
class ApiToken:
    id: int
    user_id: int
    name: str
    scopes: tuple[Scope, ...]
    token_hash: str = field(repr=False)
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = None


@dataclass(slots=True, frozen=True)
class CreatedToken:
    """A new token and its secret, which exists only in this answer."""

    token: ApiToken
    secret: str


class InsufficientScope(Forbidden):
    """The caller's token may not do this (403 `insufficient_scope`, RFC 6750 §3.1).

    `scope` is the scope that would have allowed it; `None` when no token may (a login is
    needed).
    """

    def __init__(self, scope: Scope | None) -> None:
        if scope is None:
            message = "This action needs a login: access tokens cannot be used for it"
        else:
            message = f"This access token lacks the '{scope}' scope"
        super().__init__(message)
        self.scope = scope


def is_personal(credential: str) -> bool:
    """Whether a presented bearer credential is one of ours rather than a JWT."""
    return credential.startswith(PREFIX)


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def secret_hash(secret: str) -> str:
    """What is stored and looked up: the hex SHA-256 of the whole secret, prefix included."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def same_hash(stored: str, presented: str) -> bool:
    """Compare digests in constant time (the lookup found the row by this very digest; this
    is the belt to its braces, and costs nothing)."""
    return hmac.compare_digest(stored.encode("ascii"), presented.encode("ascii"))


def canonical_scopes(scopes: list[Scope] | tuple[Scope, ...]) -> tuple[Scope, ...]:
    """Each scope once, in `SCOPES`' order, whatever order and repeats were sent."""
    wanted = set(scopes)
    return tuple(scope for scope in SCOPES if scope in wanted)


def expiry(now: datetime, days: int) -> datetime:
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ValueError(f"expires_in_days must be {MIN_DAYS}..{MAX_DAYS}")
    return now + timedelta(days=days)


def is_live(token: ApiToken, now: datetime) -> bool:
    return now < token.expires_at


def touch_due(token: ApiToken, now: datetime) -> bool:
    """Whether this use should be recorded: none yet, or the last one is a minute old."""
    return token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL


def allow(granted: tuple[Scope, ...], need: Need | None) -> None:
    """Raise InsufficientScope unless a token with `granted` may use a route needing `need`.

    A route with no requirement on record (`None`) is refused like a login-only one: a route
    added without a scope stays closed to tokens rather than open to all of them.
    """
    if need is None or need == LOGIN_ONLY:
        raise InsufficientScope(None)
    if need not in granted:
        raise InsufficientScope(need)

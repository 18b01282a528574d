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

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
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


# An `Idempotency-Key` retry must get the very answer of the first request, secret included, but
# the secret may be stored only as a hash. So a token made under a key gets a secret derived by
# HMAC from a server key (FAROS_SECRET_KEY's, never stored) and the request, and the kept answer
# holds a placeholder in its place: a random nonce, which the derivation takes in too. A replay
# re-derives the secret from the nonce it finds there and puts it back. The nonce keeps two
# tokens apart that the same user makes with the same key and body 24 hours apart (the first
# key expired): without it they would share a secret. Nothing stored (the kept answer, the
# token's row) recovers the secret without the server key.
PLACEHOLDER_PREFIX: Final = "faros_pat_withheld_"
_DERIVATION_CONTEXT: Final = b"faros-pat-idempotent"


def derivation_key(server_secret: str) -> bytes:
    """The key idempotent secrets are derived with, from the server's secret (its own key, so
    the JWT signing key signs JWTs only)."""
    return hmac.new(server_secret.encode(), b"faros-pat-idempotent-key", hashlib.sha256).digest()


def new_placeholder() -> str:
    """What the kept answer holds instead of the secret: 128 random bits, chosen after the
    request's body is fixed, so the body (a token's name) cannot contain it."""
    return PLACEHOLDER_PREFIX + secrets.token_hex(16)


def derived_secret(
    server_key: bytes, user_id: int, key: str, fingerprint: bytes, placeholder: str
) -> str:
    """The secret of a token made under `key`: 256 bits, HMAC-SHA256 over the user, the key,
    the placeholder's nonce and the request's fingerprint (fields NUL-separated: none but the
    last, binary one, can hold a NUL)."""
    message = b"\0".join(
        (
            _DERIVATION_CONTEXT,
            str(user_id).encode(),
            key.encode(),
            placeholder.encode(),
            fingerprint,
        )
    )
    digest = hmac.new(server_key, message, hashlib.sha256).digest()
    return PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def with_secret(body: bytes, derive: Callable[[str], str]) -> bytes:
    """A kept answer (JSON, its `token` a placeholder) with the secret `derive` gives for its
    placeholder put back, byte for byte where the placeholder was."""
    placeholder = json.loads(body)["token"]
    if not isinstance(placeholder, str) or not placeholder.startswith(PLACEHOLDER_PREFIX):
        raise ValueError("the kept answer holds no secret placeholder")
    return body.replace(placeholder.encode("ascii"), derive(placeholder).encode("ascii"))


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

"""Single-use tokens for e-mail links: random, and stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from faros.domain.errors import Invalid
from faros.domain.users import User
from faros.ports.unit_of_work import UnitOfWork


def new_link_token() -> str:
    """43 URL-safe characters (32 random bytes), as the contract's links carry."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # A fast hash is right here: the token has 256 bits of entropy, so nothing can be guessed.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(slots=True, frozen=True)
class LinkTokenKind:
    """Where a kind of single-use link token lives on the user, and how its refusals read."""

    hash_field: str
    expiry_field: str
    unknown: str
    expired: str


PASSWORD_RESET = LinkTokenKind(
    "reset_token_hash",
    "reset_token_expires",
    "Invalid or expired reset token",
    "Password reset link has expired. Please request a new one.",
)
EMAIL_VERIFICATION = LinkTokenKind(
    "verification_code_hash",
    "verification_expires",
    "Invalid or expired verification token",
    "Verification link has expired. Please request a new one.",
)


async def redeem(
    uow: UnitOfWork,
    kind: LinkTokenKind,
    find: Callable[[str], Awaitable[User | None]],
    token: str,
    now: datetime,
) -> User:
    """The locked holder of a live token, its token cleared; `Invalid` for unknown or expired.

    The row is locked and read again before the checks, so of two concurrent uses of one token
    only one succeeds, and a concurrent change of the same user is not overwritten.
    """
    digest = token_hash(token)
    found = await find(digest)
    user = None if found is None else await uow.users.lock(found.id)
    if user is None or getattr(user, kind.hash_field) != digest:
        raise Invalid(kind.unknown)
    expires: datetime | None = getattr(user, kind.expiry_field)
    if expires is None or expires < now:
        raise Invalid(kind.expired)
    setattr(user, kind.hash_field, None)
    setattr(user, kind.expiry_field, None)
    return user

"""Accounts: users, their profile and the rules for new usernames and e-mail addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

# D11: new usernames use a URL-safe charset so every user can be addressed by the
# `/tasks/{id}/share/{username}` routes. Login stays an exact match on whatever is stored.
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{3,50}$")
# Deliberately simple: one "@", a non-empty local part, a dotted domain, no spaces. Deliverability
# is proven by the verification e-mail, not by a regex.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(slots=True)
class User:
    id: int
    username: str
    email: str
    hashed_password: str
    created_at: datetime
    avatar_url: str | None = None
    email_verified: bool = False
    verification_code_hash: str | None = None
    verification_expires: datetime | None = None
    reset_token_hash: str | None = None
    reset_token_expires: datetime | None = None
    token_version: int = 0
    # Storage key of the avatar `avatar_url` names; None for rows from before keys were unique.
    avatar_key: str | None = None


@dataclass(slots=True, frozen=True)
class NewUser:
    username: str
    email: str
    hashed_password: str
    created_at: datetime


@dataclass(slots=True, frozen=True)
class UserRef:
    id: int
    username: str


def username_is_acceptable(username: str) -> bool:
    return USERNAME_PATTERN.fullmatch(username) is not None


def email_is_acceptable(email: str) -> bool:
    return EMAIL_PATTERN.fullmatch(email) is not None

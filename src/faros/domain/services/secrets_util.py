"""Single-use tokens for e-mail links: random, and stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets


def new_link_token() -> str:
    """43 URL-safe characters (32 random bytes), as the contract's links carry."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # A fast hash is right here: the token has 256 bits of entropy, so nothing can be guessed.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()

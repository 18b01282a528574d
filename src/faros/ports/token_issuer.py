from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(slots=True, frozen=True)
class TokenClaims:
    username: str
    token_version: int
    jti: str
    expires_at: datetime


@dataclass(slots=True, frozen=True)
class IssuedToken:
    token: str
    claims: TokenClaims


class TokenIssuer(Protocol):
    def issue(self, username: str, token_version: int) -> IssuedToken: ...

    def decode(self, token: str) -> TokenClaims:
        """Verify signature, algorithm and expiry; raise AuthenticationFailed otherwise."""
        ...

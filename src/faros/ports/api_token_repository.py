from __future__ import annotations

from datetime import datetime
from typing import Protocol

from faros.domain.api_tokens import ApiToken, NewApiToken
from faros.domain.users import User


class ApiTokenRepository(Protocol):
    """Personal access tokens, stored by the SHA-256 of their secret (never the secret)."""

    async def add(self, token: NewApiToken) -> ApiToken: ...

    async def for_user(self, user_id: int) -> list[ApiToken]:
        """The user's tokens, newest first (expired ones too, until revoked)."""
        ...

    async def holder(self, token_hash: str) -> tuple[User, ApiToken] | None:
        """The token with this digest and its user, in one read: every request with a token
        asks it. Expiry is the caller's to check."""
        ...

    async def revoke(self, user_id: int, token_id: int) -> bool:
        """Delete the user's token; False when the user has none with this id."""
        ...

    async def revoke_all(self, user_id: int) -> int:
        """Delete every token of the user; how many there were."""
        ...

    async def touch(self, token: ApiToken, now: datetime, since: datetime) -> None:
        """Record a use at `now`, unless one was recorded after `since` already (by
        another process, say): at most one write per token and interval. Not transactional:
        it needs no commit and takes no lock."""
        ...

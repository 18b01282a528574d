from __future__ import annotations

from datetime import datetime
from typing import Protocol

from faros.domain.users import NewUser, User, UserRef


class UserRepository(Protocol):
    async def add(self, user: NewUser) -> User:
        """Insert; raise DuplicateUser (username first, then email) on a clash.

        A username clashes with one equal to it ignoring case, an e-mail likewise. Names already
        stored that differ only in case (from the original FAROS) are left as they are. Safe
        against concurrent adds: of two clashing ones, one raises.
        """
        ...

    async def get(self, user_id: int) -> User | None: ...

    async def lock(self, user_id: int) -> User | None:
        """Read and lock the user's row until commit, for a read-modify-write of the user."""
        ...

    async def by_username(self, username: str) -> User | None:
        """Exact, case-sensitive match."""
        ...

    async def by_email(self, email: str) -> User | None:
        """Case-insensitive match."""
        ...

    async def token_holder(self, username: str, jti: str) -> tuple[User, bool] | None:
        """The user a token names and whether its `jti` is on the deny-list, in one read.

        Every authenticated request asks both; one lookup saves a database round trip each.
        """
        ...

    async def by_verification_code(self, code_hash: str) -> User | None: ...

    async def by_reset_token(self, token_hash: str) -> User | None: ...

    async def update(self, user: User) -> None: ...

    async def search(self, text: str, exclude_id: int, limit: int) -> list[UserRef]:
        """Case-insensitive substring match on usernames, username order, `text` literal."""
        ...


class RevokedTokenRepository(Protocol):
    async def add(self, jti: str, expires_at: datetime) -> None:
        """Idempotent: revoking a revoked token is not an error."""
        ...

    async def purge_expired(self, now: datetime) -> int: ...

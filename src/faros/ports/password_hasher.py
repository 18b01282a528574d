from __future__ import annotations

from typing import Protocol


class PasswordHasher(Protocol):
    """Hashing is slow on purpose, so calls may queue. `caller` names who is asking (a user,
    a client address): queued calls are served caller by caller in turn, so one caller's
    backlog cannot hold back everybody else's. Calls without a caller share one turn."""

    async def hash(self, password: str, *, caller: str = "") -> str: ...

    async def verify(self, hashed: str, password: str, *, caller: str = "") -> bool:
        """Constant-time check; False for a wrong password or an unreadable hash."""
        ...

    def needs_rehash(self, hashed: str) -> bool: ...

    async def burn(self, password: str, *, caller: str = "") -> None:
        """Spend the time of one verification, so unknown users answer as slowly as known."""
        ...

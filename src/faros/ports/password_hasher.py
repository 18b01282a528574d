from __future__ import annotations

from typing import Protocol


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, hashed: str, password: str) -> bool:
        """Constant-time check; False for a wrong password or an unreadable hash."""
        ...

    def needs_rehash(self, hashed: str) -> bool: ...

    async def burn(self, password: str) -> None:
        """Spend the time of one verification, so unknown users answer as slowly as known."""
        ...

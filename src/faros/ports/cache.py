from __future__ import annotations

from typing import Protocol


class Cache(Protocol):
    """A best-effort byte cache: failures read as misses and never raise."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_seconds: int) -> None: ...

    async def delete(self, *keys: str) -> None: ...

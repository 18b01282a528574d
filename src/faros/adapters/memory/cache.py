"""An in-process cache, used when no Redis is configured (and as the contract's reference)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class MemoryCache:
    """`Cache` port in a bounded dict.

    Entries expire after their TTL (measured on a monotonic clock, so wall-clock jumps neither
    keep nor drop entries); when `max_entries` is reached the oldest entry is evicted. Lives in
    one process: with several workers each has its own, which only costs hit rate.
    """

    def __init__(
        self, max_entries: int = 10_000, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if max_entries <= 0:
            raise ValueError("max_entries must be positive")
        self._max_entries = max_entries
        self._monotonic = monotonic
        # key -> (deadline, value), in insertion order: the first item is the oldest.
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        deadline, value = entry
        if deadline <= self._monotonic():
            del self._entries[key]
            return None
        return value

    async def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        self._entries.pop(key, None)  # a rewrite counts as new: it moves to the young end
        if ttl_seconds <= 0:
            return  # already expired; Redis would refuse the SET, we just store nothing
        while len(self._entries) >= self._max_entries:
            self._entries.popitem(last=False)
        self._entries[key] = (self._monotonic() + ttl_seconds, value)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._entries.pop(key, None)


class NullCache:
    """`Cache` port that keeps nothing: every read is a miss, so every read is fresh.

    For several server processes without Redis: one `MemoryCache` per process would go on
    serving a process's cached statistics after a mutation handled by another process (which
    can only invalidate its own copy), and D17 wants fresh numbers. No cache beats a wrong one.
    """

    async def get(self, key: str) -> bytes | None:
        return None

    async def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        return None

    async def delete(self, *keys: str) -> None:
        return None

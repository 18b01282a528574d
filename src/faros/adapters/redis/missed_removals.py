"""Cache keys whose removal could not reach Redis, remembered until it can."""

from __future__ import annotations

import logging
from typing import Final

_log = logging.getLogger("faros.adapters.redis")

DEFAULT_MAX_MISSED: Final = 100_000  # ~10 MB of short keys at worst


class MissedRemovals:
    """Keys that may hold a stale value in Redis because their removal never reached it.

    A mutation invalidates `stats:user_<id>` while Redis is hung or down: the DEL is skipped, and
    when Redis comes back (a hung one keeps its data) the old numbers would be served for up to
    the TTL. So such keys are remembered, read as misses here, and deleted before this cache
    trusts Redis with them again. A failed SET is remembered too: a hung Redis may still apply
    it after it resumes, with a value computed before a later mutation.

    Each entry carries a sequence number, so a replay that started before the key was missed
    again does not forget the newer miss.
    """

    def __init__(self, max_keys: int) -> None:
        self._keys: dict[str, int] = {}
        self._sequence = 0
        self._max_keys = max_keys
        self._overflow_logged = False

    def __bool__(self) -> bool:
        return bool(self._keys)

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, *keys: str) -> None:
        for key in keys:
            if key not in self._keys and len(self._keys) >= self._max_keys:
                self._log_overflow_once()
                continue
            self._sequence += 1
            self._keys[key] = self._sequence

    def batch(self, size: int) -> dict[str, int]:
        """Up to `size` keys (oldest first) with their sequence numbers, for one replay."""
        picked: dict[str, int] = {}
        for key, sequence in self._keys.items():
            if len(picked) >= size:
                break
            picked[key] = sequence
        return picked

    def settled(self, batch: dict[str, int]) -> None:
        """The keys of `batch` were deleted in Redis; forget those not missed again since."""
        for key, sequence in batch.items():
            if self._keys.get(key) == sequence:
                del self._keys[key]

    def _log_overflow_once(self) -> None:
        if not self._overflow_logged:
            self._overflow_logged = True
            _log.warning(
                "Redis (cache) has been unreachable for %d invalidations; further ones are not "
                "remembered, so some cached statistics may be stale until their TTL expires",
                self._max_keys,
            )

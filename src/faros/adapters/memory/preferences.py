"""Notification preferences: one row per user, created with the defaults on first read."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from faros.adapters.memory.store import Transaction, utc
from faros.domain.notifications import NotificationPreferences


class MemoryPreferencesRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._db = tx.store

    async def get_or_create(
        self, user_id: int, now: datetime, *, for_update: bool = False
    ) -> NotificationPreferences:
        # Units of work on a memory store run one at a time: every read is already "locked".
        stored = self._db.preferences.get(user_id)
        if stored is None:
            # `now` is only the row's creation time, which no reader sees; updated_at stays null.
            stored = NotificationPreferences(user_id=user_id)
            self._tx.put(self._db.preferences, user_id, stored)
        return replace(stored)

    async def update(self, preferences: NotificationPreferences) -> None:
        if preferences.user_id in self._db.preferences:
            updated_at = None if preferences.updated_at is None else utc(preferences.updated_at)
            stored = replace(preferences, updated_at=updated_at)
            self._tx.put(self._db.preferences, preferences.user_id, stored)

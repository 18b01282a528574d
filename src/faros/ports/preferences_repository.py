from __future__ import annotations

from datetime import datetime
from typing import Protocol

from faros.domain.notifications import NotificationPreferences


class PreferencesRepository(Protocol):
    async def get_or_create(
        self, user_id: int, now: datetime, *, for_update: bool = False
    ) -> NotificationPreferences:
        """The user's preferences, creating the default row first when there is none.

        `for_update` locks the row until commit, so a read-modify-write loses no change.
        """
        ...

    async def update(self, preferences: NotificationPreferences) -> None: ...

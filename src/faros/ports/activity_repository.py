from __future__ import annotations

from typing import Protocol

from faros.domain.activity import ActivityEntry, ActivityFilter, ActivityStats, NewActivity


class ActivityRepository(Protocol):
    async def add(self, entry: NewActivity) -> None: ...

    async def feed(self, user_id: int, criteria: ActivityFilter) -> list[ActivityEntry]:
        """Entries the user may see (API.md §3.8 plus D14), newest first, id as tie-breaker.

        Visible: the user's own entries; entries about tasks currently shared with the user,
        except task creation and deletion; entries by others about tasks the user owns.
        """
        ...

    async def stats(self, user_id: int) -> ActivityStats:
        """Counts over the user's own entries."""
        ...

    async def timeline(self, task_id: int) -> list[ActivityEntry]:
        """Every entry about the task or its comments and files, oldest first."""
        ...

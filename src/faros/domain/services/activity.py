"""Reading the activity log: the caller's feed, counts and a task's timeline."""

from __future__ import annotations

from dataclasses import dataclass

from faros.domain.activity import ActivityEntry, ActivityFilter, ActivityStats, summary
from faros.domain.permissions import AccessLevel
from faros.domain.services.task_access import load_task
from faros.domain.users import User
from faros.ports.unit_of_work import UnitOfWorkFactory


@dataclass(slots=True, frozen=True)
class TimelineEntry:
    entry: ActivityEntry
    summary: str


class ActivityService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def feed(self, caller: User, criteria: ActivityFilter) -> list[ActivityEntry]:
        async with self._uow() as uow:
            return await uow.activity.feed(caller.id, criteria)

    async def stats(self, caller: User) -> ActivityStats:
        async with self._uow() as uow:
            return await uow.activity.stats(caller.id)

    async def timeline(self, caller: User, task_id: int) -> list[TimelineEntry]:
        async with self._uow() as uow:
            await load_task(uow, task_id, caller.id, AccessLevel.VIEW)
            entries = await uow.activity.timeline(task_id)
        return [TimelineEntry(entry, summary(entry)) for entry in entries]

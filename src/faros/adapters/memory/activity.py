"""The activity log: who may see which entry (API.md §3.8 with D14), counts and timelines."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from faros.adapters.memory.collaboration import username_of
from faros.adapters.memory.store import ActivityRow, MemoryStore, Transaction, json_copy, utc
from faros.domain.activity import ActivityEntry, ActivityFilter, ActivityStats, NewActivity

# Collaborators see what happens to a task shared with them, but not its creation or deletion.
_HIDDEN_FROM_SHAREES = frozenset({("task", "created"), ("task", "deleted")})


class MemoryActivityRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._db: MemoryStore = tx.store

    async def add(self, entry: NewActivity) -> None:
        stored = ActivityRow(
            self._db.next_id("activity_logs"),
            NewActivity(
                user_id=entry.user_id,
                action=entry.action,
                resource_type=entry.resource_type,
                resource_id=entry.resource_id,
                task_id=entry.task_id,
                details=json_copy(entry.details),
                created_at=utc(entry.created_at),
            ),
        )
        self._tx.put(self._db.activity, stored.id, stored)

    def _read(self, rows: Iterable[ActivityRow]) -> list[ActivityEntry]:
        return [
            ActivityEntry(
                id=row.id,
                user_id=row.entry.user_id,
                action=row.entry.action,
                resource_type=row.entry.resource_type,
                resource_id=row.entry.resource_id,
                details=json_copy(row.entry.details),
                created_at=row.entry.created_at,
                username=username_of(self._db, row.entry.user_id),
            )
            for row in rows
        ]

    def _visible_to(self, user_id: int) -> list[ActivityRow]:
        shared_with_me = {
            row.share.task_id
            for row in self._db.shares.values()
            if row.share.shared_with_user_id == user_id
        }
        owned = {task.id for task in self._db.tasks.values() if task.user_id == user_id}

        def visible(row: ActivityRow) -> bool:
            entry = row.entry
            if entry.user_id == user_id or entry.task_id in owned:
                return True
            kind = (entry.resource_type, entry.action)
            return entry.task_id in shared_with_me and kind not in _HIDDEN_FROM_SHAREES

        return [row for row in self._db.activity.values() if visible(row)]

    async def feed(self, user_id: int, criteria: ActivityFilter) -> list[ActivityEntry]:
        start = None if criteria.start is None else utc(criteria.start)
        end = None if criteria.end is None else utc(criteria.end)
        found = [
            row
            for row in self._visible_to(user_id)
            if (criteria.resource_type is None or row.entry.resource_type == criteria.resource_type)
            and (criteria.action is None or row.entry.action == criteria.action)
            and (start is None or row.entry.created_at >= start)
            and (end is None or row.entry.created_at <= end)
        ]
        found.sort(key=lambda row: (row.entry.created_at, row.id), reverse=True)
        offset = max(criteria.offset, 0)
        return self._read(found[offset : offset + max(criteria.limit, 0)])

    async def stats(self, user_id: int) -> ActivityStats:
        own = [row.entry for row in self._db.activity.values() if row.entry.user_id == user_id]
        return ActivityStats(
            total_activities=len(own),
            by_action=dict(Counter(entry.action for entry in own)),
            by_resource=dict(Counter(entry.resource_type for entry in own)),
        )

    async def timeline(self, task_id: int) -> list[ActivityEntry]:
        rows = sorted(
            (row for row in self._db.activity.values() if row.entry.task_id == task_id),
            key=lambda row: (row.entry.created_at, row.id),
        )
        return self._read(rows)

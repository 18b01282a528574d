"""Tasks: rows, list queries (API.md §3.3 with D12), statistics (§6) and due-soon reminders."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from faros.adapters.memory.activity import MemoryActivityRepository
from faros.adapters.memory.collaboration import (
    comment_order,
    delete_share,
    read_comment,
    username_of,
)
from faros.adapters.memory.store import MemoryStore, Transaction, utc, valid_id
from faros.domain.activity import NewActivity
from faros.domain.comments import Comment
from faros.domain.tasks import (
    PRIORITY_RANK,
    UPDATABLE_FIELDS,
    NewTask,
    Task,
    TaskQuery,
    TaskStats,
    TaskView,
    is_overdue,
    task_view,
)
from faros.ports.task_repository import DueTask, SharedTaskView, TaskWithShare, TaskWithView


def copy_task(task: Task) -> Task:
    return replace(task, tags=list(task.tags))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _end_of_day(day: date | None) -> datetime | None:
    """Midnight after `day` (D12: the whole named day counts); None when there is no bound."""
    if day is None or day == date.max:
        return None
    return _midnight(day + timedelta(days=1))


def task_filter(query: TaskQuery, today: date) -> Callable[[Task], bool]:
    """Every filter of `GET /tasks`, combined with AND; bounds are worked out once per query."""
    created_from = None if query.created_after is None else _midnight(query.created_after)
    created_to = _end_of_day(query.created_before)
    needle = query.search.lower() if query.search else None

    def keep(task: Task) -> bool:
        due = task.due_date
        return (
            (query.completed is None or task.completed == query.completed)
            and (query.priority is None or task.priority == query.priority)
            and all(tag in task.tags for tag in query.tags)
            and (query.overdue is None or is_overdue(task, today) == query.overdue)
            and (needle is None or _mentions(task, needle))
            and (created_from is None or task.created_at >= created_from)
            and (created_to is None or task.created_at < created_to)
            and (query.due_after is None or (due is not None and due >= query.due_after))
            and (query.due_before is None or (due is not None and due <= query.due_before))
        )

    return keep


def _mentions(task: Task, needle: str) -> bool:
    # Plain substring tests: the search text is literal, `%` and `_` included (D12).
    return needle in task.title.lower() or needle in (task.description or "").lower()


def _sort_key(task: Task, field: str) -> Any:
    if field == "priority":
        return PRIORITY_RANK[task.priority]
    if field == "due_date":
        # Ascending puts tasks without a due date last, descending first (PostgreSQL's default).
        return (task.due_date is None, task.due_date or date.min)
    return getattr(task, field)


def ordered(tasks: list[Task], query: TaskQuery) -> list[Task]:
    by_id = sorted(tasks, key=lambda task: task.id)
    if query.sort_by is None or query.sort_by == "id":
        return by_id[::-1] if query.sort_by == "id" and query.sort_order == "desc" else by_id
    # Python's sort is stable, also in reverse, so ties keep the id-ascending order.
    field, descending = query.sort_by, query.sort_order == "desc"
    return sorted(by_id, key=lambda task: _sort_key(task, field), reverse=descending)


class MemoryTaskRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._db: MemoryStore = tx.store

    async def add(self, task: NewTask) -> Task:
        stored = Task(
            id=self._db.next_id("tasks"),
            title=task.title,
            description=task.description,
            completed=task.completed,
            priority=task.priority,
            created_at=utc(task.created_at),
            due_date=task.due_date,
            tags=list(task.tags),
            user_id=task.user_id,
        )
        self._tx.put(self._db.tasks, stored.id, stored)
        return copy_task(stored)

    def _with_share(self, task: Task, user_id: int) -> TaskWithShare:
        share_id = self._db.share_by_pair.get((task.id, user_id))
        permission = None if share_id is None else self._db.shares[share_id].share.permission
        return TaskWithShare(copy_task(task), permission)

    async def get_with_share(
        self, task_id: int, user_id: int, *, for_update: bool = False
    ) -> TaskWithShare | None:
        # `for_update` needs nothing here: units of work on a memory store never overlap.
        task = self._db.tasks.get(task_id) if valid_id(task_id) else None
        return None if task is None else self._with_share(task, user_id)

    async def get_with_view(
        self, task_id: int, user_id: int, *, for_update: bool = False
    ) -> TaskWithView | None:
        found = await self.get_with_share(task_id, user_id, for_update=for_update)
        if found is None:
            return None
        view = (await self.views([found.task]))[0]
        return TaskWithView(found.task, found.share, view.comments, view.share_count)

    async def get_many_with_shares(
        self, task_ids: list[int], user_id: int, *, for_update: bool = False
    ) -> list[TaskWithShare]:
        found = sorted({i for i in task_ids if valid_id(i) and i in self._db.tasks})
        return [self._with_share(self._db.tasks[task_id], user_id) for task_id in found]

    async def update(self, task: Task, change: NewActivity | None = None) -> None:
        stored = self._db.tasks.get(task.id)
        if stored is None:
            return
        # Only the editable columns change; the owner and creation time are fixed.
        values = {name: getattr(task, name) for name in UPDATABLE_FIELDS}
        values["tags"] = list(task.tags)
        values["version"] = task.version
        self._tx.put(self._db.tasks, task.id, replace(stored, **values))
        if change is not None:
            await MemoryActivityRepository(self._tx).add(change)

    async def touch(self, task_id: int) -> None:
        stored = self._db.tasks.get(task_id) if valid_id(task_id) else None
        if stored is not None:
            self._tx.put(self._db.tasks, task_id, replace(stored, version=stored.version + 1))

    async def delete(self, task_id: int) -> None:
        if task_id not in self._db.tasks:
            return
        db = self._db
        for comment_id in [c.id for c in db.comments.values() if c.task_id == task_id]:
            self._tx.remove(db.comments, comment_id)
        for row in [row for row in db.shares.values() if row.share.task_id == task_id]:
            delete_share(self._tx, row)
        for file_id in [f.id for f in db.files.values() if f.task_id == task_id]:
            self._tx.remove(db.files, file_id)
        self._tx.remove(db.reminded_for, task_id)
        self._tx.remove(db.tasks, task_id)

    async def views(self, tasks: list[Task]) -> list[TaskView]:
        wanted = {task.id for task in tasks}
        comments: dict[int, list[Comment]] = defaultdict(list)
        for comment in self._db.comments.values():
            if comment.task_id in wanted:
                comments[comment.task_id].append(comment)
        share_counts = Counter(
            row.share.task_id for row in self._db.shares.values() if row.share.task_id in wanted
        )
        return [
            task_view(
                copy_task(task),
                [read_comment(self._db, c) for c in sorted(comments[task.id], key=comment_order)],
                share_counts[task.id],
            )
            for task in tasks
        ]

    async def list_page(
        self, owner_id: int, query: TaskQuery, today: date
    ) -> tuple[list[TaskView], int]:
        keep = task_filter(query, today)
        found = [t for t in self._db.tasks.values() if t.user_id == owner_id and keep(t)]
        skip, limit = max(query.skip, 0), max(query.limit, 0)
        page = ordered(found, query)[skip : skip + limit]
        return await self.views(page), len(found)

    async def shared_with(self, user_id: int) -> list[SharedTaskView]:
        rows = sorted(
            (row for row in self._db.shares.values() if row.share.shared_with_user_id == user_id),
            key=lambda row: row.id,
        )
        tasks = [self._db.tasks[row.share.task_id] for row in rows]
        views = await self.views(tasks)
        return [
            SharedTaskView(view, row.share.permission, username_of(self._db, task.user_id) or "")
            for row, task, view in zip(rows, tasks, views, strict=True)
        ]

    async def stats(self, owner_id: int, today: date) -> TaskStats:
        owned = [task for task in self._db.tasks.values() if task.user_id == owner_id]
        completed = sum(task.completed for task in owned)
        shared = {
            row.share.task_id
            for row in self._db.shares.values()
            if row.share.shared_by_user_id == owner_id
        }
        return TaskStats(
            total=len(owned),
            completed=completed,
            incomplete=len(owned) - completed,
            by_priority=dict(Counter(task.priority for task in owned)),
            by_tag=dict(Counter(tag for task in owned for tag in task.tags)),
            overdue=sum(is_overdue(task, today) for task in owned),
            tasks_shared=len(shared),
            comments_posted=sum(c.user_id == owner_id for c in self._db.comments.values()),
        )

    async def due_for_reminder(self, start: date, end: date) -> list[DueTask]:
        due = sorted(
            (
                task
                for task in self._db.tasks.values()
                if not task.completed
                and task.due_date is not None
                and start <= task.due_date <= end
                and self._db.reminded_for.get(task.id) != task.due_date
            ),
            key=lambda task: task.id,
        )
        return [DueTask(copy_task(task), self._recipients(task)) for task in due]

    def _recipients(self, task: Task) -> list[int]:
        editors = sorted(
            row.share.shared_with_user_id
            for row in self._db.shares.values()
            if row.share.task_id == task.id and row.share.permission == "edit"
        )
        return [task.user_id, *(user_id for user_id in editors if user_id != task.user_id)]

    async def mark_reminded(self, task_id: int, due_date: date) -> None:
        if task_id in self._db.tasks:
            self._tx.put(self._db.reminded_for, task_id, due_date)

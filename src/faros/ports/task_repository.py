from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from faros.domain.activity import NewActivity
from faros.domain.comments import Comment
from faros.domain.sharing import SharePermission
from faros.domain.tasks import NewTask, Task, TaskQuery, TaskStats, TaskView, task_view


@dataclass(slots=True, frozen=True)
class TaskWithShare:
    """A task and the share the asking user holds on it, if any."""

    task: Task
    share: SharePermission | None


@dataclass(slots=True, frozen=True)
class TaskWithView:
    """A task, the asking user's share on it, and what its view adds: comments (oldest first,
    authors' usernames filled) and how many users it is shared with."""

    task: Task
    share: SharePermission | None
    comments: list[Comment]
    share_count: int

    def view_of(self, task: Task) -> TaskView:
        """The view of `task` (this task, possibly changed since) with these comments."""
        return task_view(task, self.comments, self.share_count)


@dataclass(slots=True, frozen=True)
class SharedTaskView:
    task: TaskView
    permission: SharePermission
    owner_username: str


@dataclass(slots=True, frozen=True)
class DueTask:
    task: Task
    # The owner and every edit-sharer: they are the ones who can act on a due task.
    recipient_ids: list[int]


class TaskRepository(Protocol):
    async def add(self, task: NewTask) -> Task: ...

    async def get_with_share(
        self, task_id: int, user_id: int, *, for_update: bool = False
    ) -> TaskWithShare | None:
        """The task and the caller's share; `for_update` locks the row until commit."""
        ...

    async def get_with_view(
        self, task_id: int, user_id: int, *, for_update: bool = False
    ) -> TaskWithView | None:
        """`get_with_share` and the task's comments and share count, in one read where the
        store allows: what reading a task, its comments, or changing it needs."""
        ...

    async def get_many_with_shares(
        self, task_ids: list[int], user_id: int, *, for_update: bool = False
    ) -> list[TaskWithShare]:
        """Existing tasks among `task_ids` (id order), locked in id order when asked."""
        ...

    async def update(self, task: Task, change: NewActivity | None = None) -> None:
        """Store `task`'s editable fields and its version; `change`, the activity entry that
        records the edit, is written with it (one statement where the store allows)."""
        ...

    async def touch(self, task_id: int) -> None:
        """Count a change to what the task's view shows besides its own fields (a comment or
        share added or removed): its version goes up by one. Nothing for a missing task."""
        ...

    async def delete(self, task_id: int) -> None:
        """Delete the task; its comments, shares and file rows go with it."""
        ...

    async def views(self, tasks: list[Task]) -> list[TaskView]:
        """Attach comments (authors' usernames filled) and share counts, in a fixed query count."""
        ...

    async def list_page(
        self, owner_id: int, query: TaskQuery, today: date
    ) -> tuple[list[TaskView], int]:
        """One page of the owner's tasks matching `query`, and the count before paging."""
        ...

    async def shared_with(self, user_id: int) -> list[SharedTaskView]: ...

    async def stats(self, owner_id: int, today: date) -> TaskStats: ...

    async def due_for_reminder(self, start: date, end: date) -> list[DueTask]:
        """Incomplete tasks due in [start, end] not yet reminded for their current due date."""
        ...

    async def mark_reminded(self, task_id: int, due_date: date) -> None: ...

"""Small builders for the contract tests: unique users, tasks and related rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from faros.domain.activity import NewActivity
from faros.domain.comments import Comment, NewComment
from faros.domain.sharing import NewShare, Share, SharePermission
from faros.domain.tasks import NewTask, Priority, Task
from faros.domain.users import NewUser, User
from faros.ports.unit_of_work import UnitOfWork

NOW = datetime(2030, 6, 15, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def unique(prefix: str = "u") -> str:
    """A name no other test (or earlier run against the same database) has used."""
    return f"{prefix}{uuid.uuid4().hex[:16]}"


async def add_user(uow: UnitOfWork, username: str | None = None, email: str | None = None) -> User:
    name = username or unique()
    return await uow.users.add(NewUser(name, email or f"{name}@example.com", "hash", NOW))


async def add_task(
    uow: UnitOfWork,
    owner: User,
    title: str = "task",
    *,
    description: str | None = None,
    completed: bool = False,
    priority: Priority = "medium",
    due_date: date | None = None,
    tags: Sequence[str] = (),
    created_at: datetime = NOW,
) -> Task:
    draft = NewTask(
        title, description, completed, priority, due_date, list(tags), owner.id, created_at
    )
    return await uow.tasks.add(draft)


async def share(
    uow: UnitOfWork,
    task: Task,
    user: User,
    permission: SharePermission = "view",
    *,
    at: datetime = NOW,
) -> Share:
    return await uow.shares.add(NewShare(task.id, user.id, permission, at, task.user_id))


async def comment(
    uow: UnitOfWork, task: Task, author: User, content: str = "hello", *, at: datetime = NOW
) -> Comment:
    return await uow.comments.add(NewComment(task.id, author.id, content, at))


async def comments_of(uow: UnitOfWork, task: Task) -> list[Comment]:
    """The task's comments as its view shows them (oldest first, authors named)."""
    found = await uow.tasks.get_with_view(task.id, task.user_id)
    assert found is not None
    return found.comments


def entry(
    actor: User,
    task_id: int,
    *,
    action: str = "updated",
    resource_type: str = "task",
    resource_id: int | None = None,
    at: datetime = NOW,
    details: dict[str, Any] | None = None,
) -> NewActivity:
    """An activity entry about `task_id` (comment and file entries carry it in details too)."""
    if details is None:
        details = {} if resource_type == "task" else {"task_id": task_id}
    return NewActivity(
        user_id=actor.id,
        action=action,
        resource_type=resource_type,
        resource_id=task_id if resource_id is None else resource_id,
        task_id=task_id,
        details=details,
        created_at=at,
    )

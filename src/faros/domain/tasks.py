"""Tasks: the entity, its partial updates, list queries and statistics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal

from faros.domain.comments import Comment
from faros.domain.errors import DomainError, FieldInvalid
from faros.domain.text import require_clean_text

Priority = Literal["low", "medium", "high"]
SortField = Literal["id", "title", "priority", "completed", "created_at", "due_date"]
SortOrder = Literal["asc", "desc"]

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 1000
# A task's tags are short labels that clients show and edit as one list: with thousands, their
# edit form (which sends them all back) could no longer save.
MAX_TAGS = 100
TAG_MAX_LENGTH = 50
# The order in which activity entries list changed keys (API.md §4), not the request's order.
UPDATABLE_FIELDS: tuple[str, ...] = (
    "title",
    "description",
    "completed",
    "priority",
    "due_date",
    "tags",
)


@dataclass(slots=True)
class Task:
    id: int
    title: str
    description: str | None
    completed: bool
    priority: Priority
    created_at: datetime
    due_date: date | None
    tags: list[str]
    user_id: int
    # Counts the changes to what a read of the task shows (its fields, tags, comments and
    # share count): 1 when created, +1 for each change. It is the task's ETag (If-Match).
    version: int = 1


@dataclass(slots=True, frozen=True)
class NewTask:
    title: str
    description: str | None
    completed: bool
    priority: Priority
    due_date: date | None
    tags: list[str]
    user_id: int
    created_at: datetime


@dataclass(slots=True)
class TaskView:
    """A task as clients see it: with its comments and how many users it is shared with."""

    id: int
    title: str
    description: str | None
    completed: bool
    priority: Priority
    created_at: datetime
    due_date: date | None
    tags: list[str]
    user_id: int
    comments: list[Comment]
    share_count: int
    version: int = 1


def task_view(task: Task, comments: list[Comment], share_count: int) -> TaskView:
    return TaskView(
        id=task.id,
        title=task.title,
        description=task.description,
        completed=task.completed,
        priority=task.priority,
        created_at=task.created_at,
        due_date=task.due_date,
        tags=task.tags,
        user_id=task.user_id,
        comments=comments,
        share_count=share_count,
        version=task.version,
    )


@dataclass(slots=True, frozen=True)
class TaskChanges:
    """The fields a PATCH names. Absent fields are not in `values`; `None` means "clear"."""

    values: dict[str, Any]

    def is_empty(self) -> bool:
        return not self.values


@dataclass(slots=True, frozen=True)
class AppliedChanges:
    task: Task
    changed_fields: list[str]
    old_values: dict[str, Any]
    new_values: dict[str, Any]


def apply_changes(task: Task, changes: TaskChanges) -> AppliedChanges:
    """Apply a partial update; report old/new values of every key sent, in canonical order."""
    sent = [name for name in UPDATABLE_FIELDS if name in changes.values]
    old_values = {name: getattr(task, name) for name in sent}
    new_values = {name: changes.values[name] for name in sent}
    changed = [name for name in sent if old_values[name] != new_values[name]]
    # A change that changes nothing leaves the version alone: the task reads the same.
    version = task.version + 1 if changed else task.version
    updated = replace(task, **new_values, version=version)
    return AppliedChanges(updated, changed, old_values, new_values)


@dataclass(slots=True, frozen=True)
class VersionPrecondition:
    """An `If-Match` as the domain sees it: the versions the caller's copy may be of, or any
    version at all (`*`). One that names no version (weak or foreign tags) never holds."""

    versions: frozenset[int] = frozenset()
    any_version: bool = False

    def holds(self, version: int) -> bool:
        return self.any_version or version in self.versions


class StaleTask(DomainError):
    """A write's precondition failed: the task changed since the caller read it (412)."""

    def __init__(self, current: TaskView) -> None:
        super().__init__(
            f"Task {current.id} has changed since you read it: "
            f"its current version is {current.version}"
        )
        self.current = current


def require_version(expected: VersionPrecondition, current: TaskView) -> None:
    """Refuse the write unless `current` (read under the row lock the write holds until its
    commit, so no other writer can come in between) is a version the caller expects."""
    if not expected.holds(current.version):
        raise StaleTask(current)


def merge_tags(existing: list[str], added: list[str]) -> list[str]:
    """Append tags not already present, keeping order and dropping repeats within `added`."""
    merged = list(existing)
    for tag in added:
        if tag not in merged:
            merged.append(tag)
    return merged


def check_text_fields(values: Mapping[str, Any], at: tuple[str | int, ...]) -> None:
    """Refuse control characters in the title, description and tags of `values` (a new task's
    fields or a change), naming the offending field under `at` (e.g. `("body",)`)."""
    title = values.get("title")
    if isinstance(title, str):
        require_clean_text((*at, "title"), title)
    description = values.get("description")
    if isinstance(description, str):
        require_clean_text((*at, "description"), description, multiline=True)
    tags = values.get("tags")
    if isinstance(tags, list):
        check_tag_texts(tags, (*at, "tags"))


def check_tag_texts(tags: list[str], at: tuple[str | int, ...]) -> None:
    for index, tag in enumerate(tags):
        require_clean_text((*at, index), tag)


def check_tag_count(old: list[str], new: list[str], loc: tuple[str | int, ...], sent: Any) -> None:
    """Refuse a change that leaves a task with more than `MAX_TAGS` tags.

    Only growth is refused: a task holding more from before the cap may still lose tags.
    """
    if len(new) > MAX_TAGS and len(new) > len(old):
        raise FieldInvalid(
            loc,
            f"A task can have at most {MAX_TAGS} tags; this change would give it {len(new)}",
            sent,
        )


def parse_tag_filter(raw: str | None) -> list[str]:
    if raw is None:
        return []
    return [item.strip() for item in raw.split(",") if item.strip()]


@dataclass(slots=True, frozen=True)
class TaskQuery:
    """Filters, order and page of `GET /tasks` (API.md §3.3 with decision D12)."""

    completed: bool | None = None
    priority: Priority | None = None
    tags: list[str] = field(default_factory=list)
    overdue: bool | None = None
    search: str | None = None
    created_after: date | None = None
    created_before: date | None = None
    due_after: date | None = None
    due_before: date | None = None
    sort_by: SortField | None = None
    sort_order: SortOrder = "asc"
    skip: int = 0
    limit: int = 100


@dataclass(slots=True, frozen=True)
class TaskPage:
    tasks: list[TaskView]
    total: int
    page: int
    pages: int


def paginate(tasks: list[TaskView], total: int, skip: int, limit: int) -> TaskPage:
    # D24: at least one page, so the older client never shows "Page 1 of 0".
    pages = max(1, -(-total // limit))
    return TaskPage(tasks=tasks, total=total, page=skip // limit + 1, pages=pages)


PRIORITY_RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2}


def is_overdue(task: Task, today: date) -> bool:
    return task.due_date is not None and not task.completed and task.due_date < today


@dataclass(slots=True, frozen=True)
class TaskStats:
    total: int
    completed: int
    incomplete: int
    by_priority: dict[str, int]
    by_tag: dict[str, int]
    overdue: int
    tasks_shared: int
    comments_posted: int


def snapshot(task: Task) -> dict[str, Any]:
    """The details recorded when a task is created or deleted (API.md §4)."""
    return {
        "title": task.title,
        "priority": task.priority,
        "completed": task.completed,
        "tags": list(task.tags),
        "due_date": task.due_date.isoformat() if task.due_date else None,
    }

"""The activity log: what each action records (API.md §4, decision D14) and its summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from faros.domain.comments import Comment
from faros.domain.files import StoredFile
from faros.domain.sharing import SharePermission
from faros.domain.tasks import AppliedChanges, Task, snapshot

PREVIEW_LENGTH = 100


@dataclass(slots=True)
class ActivityEntry:
    id: int
    user_id: int
    action: str
    resource_type: str
    resource_id: int
    details: dict[str, Any] | None
    created_at: datetime
    username: str | None


@dataclass(slots=True, frozen=True)
class NewActivity:
    user_id: int
    action: str
    resource_type: str
    resource_id: int
    task_id: int
    details: dict[str, Any]
    created_at: datetime


@dataclass(slots=True, frozen=True)
class ActivityFilter:
    resource_type: str | None = None
    action: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 50
    offset: int = 0


@dataclass(slots=True, frozen=True)
class ActivityStats:
    total_activities: int
    by_action: dict[str, int] = field(default_factory=dict)
    by_resource: dict[str, int] = field(default_factory=dict)


def _json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return list(value)
    return value


def task_created(actor_id: int, task: Task, at: datetime) -> NewActivity:
    return NewActivity(actor_id, "created", "task", task.id, task.id, snapshot(task), at)


def task_deleted(actor_id: int, task: Task, at: datetime) -> NewActivity:
    return NewActivity(actor_id, "deleted", "task", task.id, task.id, snapshot(task), at)


def task_updated(actor_id: int, applied: AppliedChanges, at: datetime) -> NewActivity:
    task = applied.task
    details = {
        "task_title": task.title,
        "changed_fields": list(applied.changed_fields),
        "old_values": {k: _json_value(v) for k, v in applied.old_values.items()},
        "new_values": {k: _json_value(v) for k, v in applied.new_values.items()},
    }
    return NewActivity(actor_id, "updated", "task", task.id, task.id, details, at)


def task_shared(
    actor_id: int,
    task: Task,
    user_id: int,
    username: str,
    permission: SharePermission,
    at: datetime,
) -> NewActivity:
    details = {
        "task_title": task.title,
        "shared_with_user_id": user_id,
        "shared_with_username": username,
        "permission": permission,
    }
    return NewActivity(actor_id, "shared", "task", task.id, task.id, details, at)


def task_unshared(
    actor_id: int, task: Task, user_id: int, username: str, at: datetime
) -> NewActivity:
    details = {"task_title": task.title, "unshared_user_id": user_id, "unshared_username": username}
    return NewActivity(actor_id, "unshared", "task", task.id, task.id, details, at)


def comment_created(actor_id: int, task: Task, comment: Comment, at: datetime) -> NewActivity:
    details = {
        "task_id": task.id,
        "task_title": task.title,
        "content_preview": comment.content[:PREVIEW_LENGTH],
    }
    return NewActivity(actor_id, "created", "comment", comment.id, task.id, details, at)


def comment_updated(
    actor_id: int, task: Task, comment: Comment, old_content: str, at: datetime
) -> NewActivity:
    details = {
        "task_id": task.id,
        "task_title": task.title,
        "old_content": old_content[:PREVIEW_LENGTH],
        "new_content": comment.content[:PREVIEW_LENGTH],
    }
    return NewActivity(actor_id, "updated", "comment", comment.id, task.id, details, at)


def comment_deleted(actor_id: int, task: Task, comment: Comment, at: datetime) -> NewActivity:
    details = {
        "task_id": task.id,
        "task_title": task.title,
        "content": comment.content[:PREVIEW_LENGTH],
    }
    return NewActivity(actor_id, "deleted", "comment", comment.id, task.id, details, at)


def file_uploaded(actor_id: int, stored: StoredFile, at: datetime) -> NewActivity:
    details = {
        "task_id": stored.task_id,
        "filename": stored.original_filename,
        "file_size": stored.file_size,
        "content_type": stored.content_type,
    }
    return NewActivity(actor_id, "uploaded", "file", stored.id, stored.task_id, details, at)


def file_deleted(actor_id: int, stored: StoredFile, at: datetime) -> NewActivity:
    details = {"task_id": stored.task_id, "filename": stored.original_filename}
    return NewActivity(actor_id, "deleted", "file", stored.id, stored.task_id, details, at)


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def summary(entry: ActivityEntry) -> str:
    """A one-line human description of an entry for the task timeline (D14)."""
    who = entry.username or f"user {entry.user_id}"
    details = entry.details or {}
    kind = (entry.resource_type, entry.action)
    if kind == ("task", "created"):
        return f"{who} created task '{details.get('title', '')}'"
    if kind == ("task", "deleted"):
        return f"{who} deleted task '{details.get('title', '')}'"
    if kind == ("task", "updated"):
        changed: list[str] = list(details.get("changed_fields") or [])
        if len(changed) == 1 and changed[0] not in ("description",):
            name = changed[0]
            old = _show((details.get("old_values") or {}).get(name))
            new = _show((details.get("new_values") or {}).get(name))
            return f"{who} changed {name} from {old} to {new}"
        return f"{who} updated {', '.join(changed) or 'nothing'}"
    if kind == ("task", "shared"):
        target, permission = details.get("shared_with_username"), details.get("permission")
        return f"{who} shared task with {target} ({permission})"
    if kind == ("task", "unshared"):
        return f"{who} removed {details.get('unshared_username')}'s access to task"
    if entry.resource_type == "comment":
        verb = {"created": "added", "updated": "edited", "deleted": "deleted"}.get(entry.action)
        if verb:
            return f"{who} {verb} a comment"
    if entry.resource_type == "file" and entry.action in ("uploaded", "deleted"):
        return f"{who} {entry.action} {details.get('filename')}"
    return f"{who} {entry.action} {entry.resource_type} #{entry.resource_id}"

"""What each action records (API.md §4) and the one-line summaries of the timeline (D14)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from faros.domain import activity
from faros.domain.activity import ActivityEntry, summary
from faros.domain.comments import Comment
from faros.domain.files import StoredFile
from faros.domain.tasks import Task, TaskChanges, apply_changes

AT = datetime(2030, 6, 15, 12, tzinfo=UTC)
TASK = Task(7, "Plan", None, False, "low", AT, date(2030, 7, 1), ["a"], 1)


def test_task_entries_snapshot_the_task() -> None:
    created = activity.task_created(1, TASK, AT)
    assert (created.action, created.resource_type, created.resource_id, created.task_id) == (
        "created",
        "task",
        7,
        7,
    )
    assert created.details == {
        "title": "Plan",
        "priority": "low",
        "completed": False,
        "tags": ["a"],
        "due_date": "2030-07-01",
    }
    assert activity.task_deleted(1, TASK, AT).details == created.details


def test_update_entries_store_dates_as_text() -> None:
    applied = apply_changes(TASK, TaskChanges({"due_date": date(2030, 8, 1), "tags": ["b"]}))
    entry = activity.task_updated(2, applied, AT)
    assert (entry.user_id, entry.action) == (2, "updated")
    assert entry.details == {
        "task_title": "Plan",
        "changed_fields": ["due_date", "tags"],
        "old_values": {"due_date": "2030-07-01", "tags": ["a"]},
        "new_values": {"due_date": "2030-08-01", "tags": ["b"]},
    }


def test_comment_and_file_entries_point_at_their_task() -> None:
    long_text = "x" * 150
    comment = Comment(3, 7, 2, long_text, AT, None, None)
    created = activity.comment_created(2, TASK, comment, AT)
    assert (created.resource_type, created.resource_id, created.task_id) == ("comment", 3, 7)
    assert created.details == {"task_id": 7, "task_title": "Plan", "content_preview": "x" * 100}
    updated = activity.comment_updated(2, TASK, comment, "old", AT)
    assert updated.details["old_content"] == "old"
    assert updated.details["new_content"] == "x" * 100
    assert activity.comment_deleted(2, TASK, comment, AT).details["content"] == "x" * 100
    stored = StoredFile(4, 7, "a.pdf", "key", 10, None, AT)
    uploaded = activity.file_uploaded(2, stored, AT)
    assert (uploaded.resource_type, uploaded.resource_id, uploaded.task_id) == ("file", 4, 7)
    assert uploaded.details == {
        "task_id": 7,
        "filename": "a.pdf",
        "file_size": 10,
        "content_type": None,
    }
    assert activity.file_deleted(2, stored, AT).details == {"task_id": 7, "filename": "a.pdf"}


def _entry(
    resource_type: str, action: str, details: dict[str, Any] | None, username: str | None = "ann"
) -> ActivityEntry:
    return ActivityEntry(1, 5, action, resource_type, 9, details, AT, username)


@pytest.mark.parametrize(
    ("entry", "text"),
    [
        (_entry("task", "created", {"title": "Plan"}), "ann created task 'Plan'"),
        (_entry("task", "deleted", {"title": "Plan"}), "ann deleted task 'Plan'"),
        (
            _entry(
                "task",
                "updated",
                {
                    "changed_fields": ["priority"],
                    "old_values": {"priority": "low"},
                    "new_values": {"priority": "high"},
                },
            ),
            "ann changed priority from low to high",
        ),
        (
            _entry(
                "task",
                "updated",
                {
                    "changed_fields": ["tags"],
                    "old_values": {"tags": []},
                    "new_values": {"tags": ["a", "b"]},
                },
            ),
            "ann changed tags from none to a, b",
        ),
        (
            _entry(
                "task",
                "updated",
                {
                    "changed_fields": ["due_date"],
                    "old_values": {"due_date": "2030-07-01"},
                    "new_values": {"due_date": None},
                },
            ),
            "ann changed due_date from 2030-07-01 to none",
        ),
        (_entry("task", "updated", {"changed_fields": ["description"]}), "ann updated description"),
        (
            _entry("task", "updated", {"changed_fields": ["title", "tags"]}),
            "ann updated title, tags",
        ),
        (_entry("task", "updated", {"changed_fields": []}), "ann updated nothing"),
        (
            _entry("task", "shared", {"shared_with_username": "bob", "permission": "edit"}),
            "ann shared task with bob (edit)",
        ),
        (
            _entry("task", "unshared", {"unshared_username": "bob"}),
            "ann removed bob's access to task",
        ),
        (_entry("comment", "created", {}), "ann added a comment"),
        (_entry("comment", "updated", {}), "ann edited a comment"),
        (_entry("comment", "deleted", {}), "ann deleted a comment"),
        (_entry("file", "uploaded", {"filename": "a.pdf"}), "ann uploaded a.pdf"),
        (_entry("file", "deleted", {"filename": "a.pdf"}), "ann deleted a.pdf"),
        (_entry("task", "archived", None), "ann archived task #9"),
        (_entry("task", "created", {"title": "T"}, username=None), "user 5 created task 'T'"),
    ],
)
def test_summary(entry: ActivityEntry, text: str) -> None:
    assert summary(entry) == text

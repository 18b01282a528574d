"""Task rules: partial updates, tags, paging, overdue and snapshots."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from faros.domain.tasks import (
    Task,
    TaskChanges,
    apply_changes,
    is_overdue,
    merge_tags,
    paginate,
    parse_tag_filter,
    snapshot,
)

TODAY = date(2030, 6, 15)


def _task(**values: Any) -> Task:
    base: dict[str, Any] = {
        "id": 1,
        "title": "Title",
        "description": "d",
        "completed": False,
        "priority": "medium",
        "created_at": datetime(2030, 1, 1, tzinfo=UTC),
        "due_date": None,
        "tags": ["a"],
        "user_id": 9,
    }
    base.update(values)
    return Task(**base)


def test_apply_changes_reports_every_sent_key_in_canonical_order() -> None:
    task = _task()
    applied = apply_changes(
        task, TaskChanges({"tags": ["b"], "priority": "medium", "title": "New", "due_date": None})
    )
    assert applied.changed_fields == ["title", "tags"]
    assert list(applied.old_values) == ["title", "priority", "due_date", "tags"]
    assert applied.old_values == {
        "title": "Title",
        "priority": "medium",
        "due_date": None,
        "tags": ["a"],
    }
    assert applied.new_values == {
        "title": "New",
        "priority": "medium",
        "due_date": None,
        "tags": ["b"],
    }
    assert (applied.task.title, applied.task.tags, applied.task.description) == ("New", ["b"], "d")
    assert task.title == "Title"  # the input is not modified


def test_none_clears_a_nullable_field() -> None:
    applied = apply_changes(_task(due_date=TODAY), TaskChanges({"due_date": None}))
    assert (applied.task.due_date, applied.changed_fields) == (None, ["due_date"])


def test_sending_the_current_values_changes_nothing() -> None:
    applied = apply_changes(_task(), TaskChanges({"title": "Title", "completed": False}))
    assert applied.changed_fields == []


def test_changes_know_whether_they_are_empty() -> None:
    assert TaskChanges({}).is_empty()
    assert not TaskChanges({"description": None}).is_empty()


@pytest.mark.parametrize(
    ("existing", "added", "expected"),
    [
        (["a", "b"], ["b", "c", "c", "d"], ["a", "b", "c", "d"]),
        (["a", "a"], ["a"], ["a", "a"]),  # existing repeats are kept as they are
        ([], [], []),
        (["x"], ["", "X"], ["x", "", "X"]),  # case-sensitive, empty tag allowed
    ],
)
def test_merge_tags(existing: list[str], added: list[str], expected: list[str]) -> None:
    assert merge_tags(existing, added) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, []), ("", []), (" , ,", []), ("work, home ,,x", ["work", "home", "x"])],
)
def test_parse_tag_filter(raw: str | None, expected: list[str]) -> None:
    assert parse_tag_filter(raw) == expected


@pytest.mark.parametrize(
    ("total", "skip", "limit", "page", "pages"),
    [
        (0, 0, 10, 1, 1),  # D24: never "page 1 of 0"
        (10, 0, 10, 1, 1),
        (11, 0, 10, 1, 2),
        (11, 10, 10, 2, 2),
        (3, 1, 3, 1, 1),  # page is skip // limit + 1
        (3, 30, 3, 11, 1),  # and may exceed pages
    ],
)
def test_paginate(total: int, skip: int, limit: int, page: int, pages: int) -> None:
    result = paginate([], total, skip, limit)
    assert (result.total, result.page, result.pages) == (total, page, pages)


@pytest.mark.parametrize(
    ("due", "completed", "overdue"),
    [
        (date(2030, 6, 14), False, True),
        (TODAY, False, False),
        (date(2030, 6, 14), True, False),
        (None, False, False),
    ],
)
def test_is_overdue(due: date | None, completed: bool, overdue: bool) -> None:
    assert is_overdue(_task(due_date=due, completed=completed), TODAY) is overdue


def test_snapshot_is_json_ready() -> None:
    assert snapshot(_task(due_date=TODAY, tags=["x", "x"])) == {
        "title": "Title",
        "priority": "medium",
        "completed": False,
        "tags": ["x", "x"],
        "due_date": "2030-06-15",
    }
    assert snapshot(_task())["due_date"] is None

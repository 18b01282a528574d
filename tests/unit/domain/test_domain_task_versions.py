"""Task versions: which changes count, and the If-Match precondition."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from faros.domain.tasks import (
    StaleTask,
    Task,
    TaskChanges,
    VersionPrecondition,
    apply_changes,
    require_version,
    task_view,
)

TASK = Task(1, "Title", None, False, "low", datetime(2030, 1, 1, tzinfo=UTC), None, ["a"], 7, 4)


def test_a_change_adds_one_and_a_change_to_nothing_adds_none() -> None:
    assert apply_changes(TASK, TaskChanges({"title": "New", "tags": ["a"]})).task.version == 5
    assert apply_changes(TASK, TaskChanges({"title": "Title", "tags": ["a"]})).task.version == 4


def test_preconditions() -> None:
    assert VersionPrecondition(any_version=True).holds(4)
    assert VersionPrecondition(frozenset({3, 4})).holds(4)
    assert not VersionPrecondition(frozenset({3})).holds(4)
    assert not VersionPrecondition().holds(4)  # weak or foreign tags only: never


def test_a_failed_precondition_carries_the_task_as_it_is() -> None:
    view = task_view(TASK, [], 2)
    require_version(VersionPrecondition(frozenset({4})), view)
    with pytest.raises(StaleTask) as raised:
        require_version(VersionPrecondition(frozenset({3})), view)
    assert raised.value.current is view
    assert raised.value.message == "Task 1 has changed since you read it: its current version is 4"

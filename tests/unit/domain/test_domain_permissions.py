"""The permission rules of API.md §1.9."""

from __future__ import annotations

import pytest

from faros.domain.errors import TaskAccessDenied
from faros.domain.permissions import (
    AccessLevel,
    access_level,
    may_delete_comment,
    may_edit_comment,
    require,
)
from faros.domain.sharing import SharePermission

OWNER_ID, CALLER_ID = 1, 2


@pytest.mark.parametrize(
    ("caller", "share", "expected"),
    [
        (OWNER_ID, None, AccessLevel.OWNER),
        (OWNER_ID, "view", AccessLevel.OWNER),  # owning beats any share row
        (CALLER_ID, "edit", AccessLevel.EDIT),
        (CALLER_ID, "view", AccessLevel.VIEW),
        (CALLER_ID, None, AccessLevel.NONE),
    ],
)
def test_access_level(caller: int, share: SharePermission | None, expected: AccessLevel) -> None:
    assert access_level(OWNER_ID, caller, share) is expected


def test_levels_are_ordered() -> None:
    assert AccessLevel.NONE < AccessLevel.VIEW < AccessLevel.EDIT < AccessLevel.OWNER


@pytest.mark.parametrize("needed", list(AccessLevel))
@pytest.mark.parametrize("level", list(AccessLevel))
def test_require_refuses_exactly_the_lower_levels(level: AccessLevel, needed: AccessLevel) -> None:
    if level >= needed:
        require(level, needed)
    else:
        with pytest.raises(TaskAccessDenied):
            require(level, needed)


def test_only_the_author_edits_a_comment() -> None:
    assert may_edit_comment(5, 5) is True
    assert may_edit_comment(5, 6) is False


@pytest.mark.parametrize(
    ("caller", "level", "allowed"),
    [
        (7, AccessLevel.VIEW, True),  # the author, whatever the level
        (8, AccessLevel.OWNER, True),  # the task owner, any comment
        (8, AccessLevel.EDIT, False),
        (8, AccessLevel.VIEW, False),
    ],
)
def test_author_or_task_owner_deletes_a_comment(
    caller: int, level: AccessLevel, allowed: bool
) -> None:
    assert may_delete_comment(caller, 7, level) is allowed

"""Who may do what to a task (API.md §1.9): the single source every route asks."""

from __future__ import annotations

from enum import IntEnum

from faros.domain.errors import TaskAccessDenied
from faros.domain.sharing import SharePermission


class AccessLevel(IntEnum):
    """A caller's relation to a task; ordered so that a higher level includes the lower ones."""

    NONE = 0
    VIEW = 1
    EDIT = 2
    OWNER = 3


def access_level(owner_id: int, caller_id: int, share: SharePermission | None) -> AccessLevel:
    if owner_id == caller_id:
        return AccessLevel.OWNER
    if share is None:
        return AccessLevel.NONE
    return AccessLevel.EDIT if share == "edit" else AccessLevel.VIEW


def require(level: AccessLevel, needed: AccessLevel) -> None:
    if level < needed:
        raise TaskAccessDenied()


def may_edit_comment(caller_id: int, author_id: int) -> bool:
    return caller_id == author_id


def may_delete_comment(caller_id: int, author_id: int, level: AccessLevel) -> bool:
    return caller_id == author_id or level is AccessLevel.OWNER

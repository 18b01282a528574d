from __future__ import annotations

from typing import Protocol

from faros.domain.comments import Comment, NewComment
from faros.domain.sharing import NewShare, Share, SharePermission


class ShareRepository(Protocol):
    async def add(self, share: NewShare) -> Share:
        """Insert; raise Conflict when the task is already shared with that user."""
        ...

    async def for_task(self, task_id: int) -> list[Share]:
        """The task's shares in id order."""
        ...

    async def get(self, task_id: int, user_id: int) -> Share | None: ...

    async def set_permission(self, share_id: int, permission: SharePermission) -> None: ...

    async def delete(self, share_id: int) -> None: ...


class CommentRepository(Protocol):
    async def add(self, comment: NewComment) -> Comment: ...

    async def get(self, comment_id: int) -> Comment | None:
        """The comment with its author's username."""
        ...

    async def update(self, comment: Comment) -> None: ...

    async def delete(self, comment_id: int) -> None: ...

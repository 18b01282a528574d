"""Shares and comments, read with their users' names as the database joins them in."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from faros.adapters.memory.store import MemoryStore, ShareRow, Transaction, utc, valid_id
from faros.domain.comments import Comment, NewComment
from faros.domain.errors import Conflict
from faros.domain.sharing import NewShare, Share, SharePermission

ALREADY_SHARED = "Task already shared with this user"


def username_of(db: MemoryStore, user_id: int) -> str | None:
    user = db.users.get(user_id)
    return None if user is None else user.username


def read_share(db: MemoryStore, row: ShareRow) -> Share:
    share = row.share
    return Share(
        id=row.id,
        task_id=share.task_id,
        shared_with_user_id=share.shared_with_user_id,
        shared_with_username=username_of(db, share.shared_with_user_id) or "",
        permission=share.permission,
        shared_at=share.shared_at,
        shared_by_user_id=share.shared_by_user_id,
    )


def read_comment(db: MemoryStore, comment: Comment) -> Comment:
    return replace(comment, username=username_of(db, comment.user_id))


def comment_order(comment: Comment) -> tuple[datetime, int]:
    return (comment.created_at, comment.id)


class MemoryShareRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._db = tx.store

    async def add(self, share: NewShare) -> Share:
        pair = (share.task_id, share.shared_with_user_id)
        if pair in self._db.share_by_pair:
            raise Conflict(ALREADY_SHARED)
        stored = replace(share, shared_at=utc(share.shared_at))
        row = ShareRow(self._db.next_id("task_shares"), stored)
        self._tx.put(self._db.shares, row.id, row)
        self._tx.put(self._db.share_by_pair, pair, row.id)
        return read_share(self._db, row)

    async def for_task(self, task_id: int) -> list[Share]:
        rows = (row for row in self._db.shares.values() if row.share.task_id == task_id)
        return [read_share(self._db, row) for row in sorted(rows, key=lambda row: row.id)]

    async def get(self, task_id: int, user_id: int) -> Share | None:
        share_id = self._db.share_by_pair.get((task_id, user_id))
        return None if share_id is None else read_share(self._db, self._db.shares[share_id])

    async def set_permission(self, share_id: int, permission: SharePermission) -> None:
        row = self._db.shares.get(share_id)
        if row is not None:
            changed = ShareRow(row.id, replace(row.share, permission=permission))
            self._tx.put(self._db.shares, share_id, changed)

    async def delete(self, share_id: int) -> None:
        row = self._db.shares.get(share_id)
        if row is not None:
            delete_share(self._tx, row)


def delete_share(tx: Transaction, row: ShareRow) -> None:
    tx.remove(tx.store.shares, row.id)
    tx.remove(tx.store.share_by_pair, (row.share.task_id, row.share.shared_with_user_id))


class MemoryCommentRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._db = tx.store

    async def add(self, comment: NewComment) -> Comment:
        stored = Comment(
            id=self._db.next_id("task_comments"),
            task_id=comment.task_id,
            user_id=comment.user_id,
            content=comment.content,
            created_at=utc(comment.created_at),
            updated_at=None,
            username=None,
        )
        self._tx.put(self._db.comments, stored.id, stored)
        return read_comment(self._db, stored)

    async def get(self, comment_id: int) -> Comment | None:
        comment = self._db.comments.get(comment_id) if valid_id(comment_id) else None
        return None if comment is None else read_comment(self._db, comment)

    async def update(self, comment: Comment) -> None:
        stored = self._db.comments.get(comment.id)
        if stored is not None:
            updated_at = None if comment.updated_at is None else utc(comment.updated_at)
            changed = replace(stored, content=comment.content, updated_at=updated_at)
            self._tx.put(self._db.comments, comment.id, changed)

    async def delete(self, comment_id: int) -> None:
        self._tx.remove(self._db.comments, comment_id)

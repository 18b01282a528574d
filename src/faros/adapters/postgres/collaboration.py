"""Task shares and comments in PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert

from faros.adapters.postgres.database import Database
from faros.adapters.postgres.query import Query
from faros.adapters.postgres.tables import task_comments, task_shares, users
from faros.adapters.postgres.values import ids_param, utc, utc_or_none
from faros.domain.comments import Comment, NewComment
from faros.domain.errors import Conflict
from faros.domain.ids import is_int32
from faros.domain.services.sharing import ALREADY_SHARED
from faros.domain.sharing import NewShare, Share, SharePermission

# --------------------------------------------------------------------------- shares

_s = task_shares.c
_SHARE_COLUMNS = (
    _s.id,
    _s.task_id,
    _s.shared_with_user_id,
    users.c.username.label("shared_with_username"),
    _s.permission,
    _s.shared_at,
    _s.shared_by_user_id,
)
_SELECT_SHARES = select(*_SHARE_COLUMNS).join_from(
    task_shares, users, users.c.id == _s.shared_with_user_id
)
_SHARES_OF_TASK = Query(_SELECT_SHARES.where(_s.task_id == bindparam("task_id")).order_by(_s.id))
_SHARE_OF_USER = Query(
    _SELECT_SHARES.where(
        _s.task_id == bindparam("task_id"), _s.shared_with_user_id == bindparam("user_id")
    )
)
# One statement inserts and names the recipient. DO NOTHING on the (task, user) key keeps the
# transaction usable and turns a concurrent duplicate into "no row" (D23), never an error.
_inserted_share = (
    insert(task_shares)
    .values(
        task_id=bindparam("task_id"),
        shared_with_user_id=bindparam("shared_with_user_id"),
        permission=bindparam("permission"),
        shared_at=bindparam("shared_at"),
        shared_by_user_id=bindparam("shared_by_user_id"),
    )
    .on_conflict_do_nothing(constraint="uq_task_shares_task_user")
    .returning(*task_shares.c)
    .cte("inserted")
)
_INSERT_SHARE = Query(
    select(
        _inserted_share.c.id,
        _inserted_share.c.task_id,
        _inserted_share.c.shared_with_user_id,
        users.c.username.label("shared_with_username"),
        _inserted_share.c.permission,
        _inserted_share.c.shared_at,
        _inserted_share.c.shared_by_user_id,
    ).join_from(_inserted_share, users, users.c.id == _inserted_share.c.shared_with_user_id),
    transactional=True,
)
_SET_PERMISSION = Query(
    update(task_shares).where(_s.id == bindparam("share_id")).values(permission=bindparam("p")),
    transactional=True,
)
_DELETE_SHARE = Query(delete(task_shares).where(_s.id == bindparam("share_id")), transactional=True)


def share_from_row(row: Row[Any]) -> Share:
    return Share(
        id=row.id,
        task_id=row.task_id,
        shared_with_user_id=row.shared_with_user_id,
        shared_with_username=row.shared_with_username,
        permission=row.permission,
        shared_at=utc(row.shared_at),
        shared_by_user_id=row.shared_by_user_id,
    )


class PostgresShareRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, share: NewShare) -> Share:
        values = {
            "task_id": share.task_id,
            "shared_with_user_id": share.shared_with_user_id,
            "permission": share.permission,
            "shared_at": share.shared_at,
            "shared_by_user_id": share.shared_by_user_id,
        }
        rows = await self._db.execute(_INSERT_SHARE, values)
        if not rows:
            raise Conflict(ALREADY_SHARED)
        return share_from_row(rows[0])

    async def for_task(self, task_id: int) -> list[Share]:
        if not is_int32(task_id):
            return []
        rows = await self._db.execute(_SHARES_OF_TASK, {"task_id": task_id})
        return [share_from_row(row) for row in rows]

    async def get(self, task_id: int, user_id: int) -> Share | None:
        if not (is_int32(task_id) and is_int32(user_id)):
            return None
        params = {"task_id": task_id, "user_id": user_id}
        rows = await self._db.execute(_SHARE_OF_USER, params)
        return share_from_row(rows[0]) if rows else None

    async def set_permission(self, share_id: int, permission: SharePermission) -> None:
        if is_int32(share_id):
            await self._db.execute(_SET_PERMISSION, {"share_id": share_id, "p": permission})

    async def delete(self, share_id: int) -> None:
        if is_int32(share_id):
            await self._db.execute(_DELETE_SHARE, {"share_id": share_id})


# --------------------------------------------------------------------------- comments

_c = task_comments.c
_COMMENT_COLUMNS = (
    _c.id,
    _c.task_id,
    _c.user_id,
    _c.content,
    _c.created_at,
    _c.updated_at,
    users.c.username,
)
_SELECT_COMMENTS = select(*_COMMENT_COLUMNS).join_from(
    task_comments, users, users.c.id == _c.user_id
)
_COMMENT_BY_ID = Query(_SELECT_COMMENTS.where(_c.id == bindparam("comment_id")))
# The comments of many tasks in one statement (tasks shared with a user): no N+1.
_COMMENTS_OF_TASKS = Query(
    _SELECT_COMMENTS.where(_c.task_id == ids_param("task_ids").any_()).order_by(
        _c.created_at, _c.id
    )
)
# Insert and fill the author's username in one round trip.
_inserted_comment = (
    insert(task_comments)
    .values(
        task_id=bindparam("task_id"),
        user_id=bindparam("user_id"),
        content=bindparam("content"),
        created_at=bindparam("created_at"),
    )
    .returning(*task_comments.c)
    .cte("inserted")
)
_INSERT_COMMENT = Query(
    select(
        _inserted_comment.c.id,
        _inserted_comment.c.task_id,
        _inserted_comment.c.user_id,
        _inserted_comment.c.content,
        _inserted_comment.c.created_at,
        _inserted_comment.c.updated_at,
        users.c.username,
    ).join_from(_inserted_comment, users, users.c.id == _inserted_comment.c.user_id),
    transactional=True,
)
_UPDATE_COMMENT = Query(
    update(task_comments)
    .where(_c.id == bindparam("comment_id"))
    .values(content=bindparam("content"), updated_at=bindparam("updated_at")),
    transactional=True,
)
_DELETE_COMMENT = Query(
    delete(task_comments).where(_c.id == bindparam("comment_id")), transactional=True
)


def comment_from_row(row: Row[Any]) -> Comment:
    return Comment(
        id=row.id,
        task_id=row.task_id,
        user_id=row.user_id,
        content=row.content,
        created_at=utc(row.created_at),
        updated_at=utc_or_none(row.updated_at),
        username=row.username,
    )


async def comments_by_task(db: Database, task_ids: list[int]) -> dict[int, list[Comment]]:
    """The comments of every task in `task_ids`, grouped by task, oldest first."""
    grouped: dict[int, list[Comment]] = {task_id: [] for task_id in task_ids}
    if not task_ids:
        return grouped
    for row in await db.execute(_COMMENTS_OF_TASKS, {"task_ids": task_ids}):
        grouped[row.task_id].append(comment_from_row(row))
    return grouped


class PostgresCommentRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, comment: NewComment) -> Comment:
        values = {
            "task_id": comment.task_id,
            "user_id": comment.user_id,
            "content": comment.content,
            "created_at": comment.created_at,
        }
        return comment_from_row((await self._db.execute(_INSERT_COMMENT, values))[0])

    async def get(self, comment_id: int) -> Comment | None:
        if not is_int32(comment_id):
            return None
        rows = await self._db.execute(_COMMENT_BY_ID, {"comment_id": comment_id})
        return comment_from_row(rows[0]) if rows else None

    async def update(self, comment: Comment) -> None:
        params = {
            "comment_id": comment.id,
            "content": comment.content,
            "updated_at": comment.updated_at,
        }
        await self._db.execute(_UPDATE_COMMENT, params)

    async def delete(self, comment_id: int) -> None:
        if is_int32(comment_id):
            await self._db.execute(_DELETE_COMMENT, {"comment_id": comment_id})

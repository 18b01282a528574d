"""Tasks in PostgreSQL: CRUD, the list page, views with comments and share counts, stats."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Date,
    Integer,
    Row,
    Select,
    String,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from faros.adapters.postgres.activity import ENTRY_COLUMNS, entry_params
from faros.adapters.postgres.collaboration import comment_from_row, comments_by_task
from faros.adapters.postgres.database import Database
from faros.adapters.postgres.query import Query
from faros.adapters.postgres.tables import activity_logs, task_comments, task_shares, tasks
from faros.adapters.postgres.tables import users as users_table
from faros.adapters.postgres.values import (
    BIGINT_SAFE,
    LIKE_ESCAPE,
    contains_pattern,
    has_nul,
    ids_param,
    int32_ids,
    start_of_day,
    start_of_next_day,
    utc,
    utc_or_none,
)
from faros.domain.activity import NewActivity
from faros.domain.comments import Comment
from faros.domain.ids import INT32_MIN, is_int32
from faros.domain.tasks import (
    NewTask,
    SortField,
    Task,
    TaskQuery,
    TaskStats,
    TaskView,
    task_view,
)
from faros.ports.task_repository import DueTask, SharedTaskView, TaskWithShare, TaskWithView

_t = tasks.c
_s = task_shares.c
_TASK_COLUMNS = (
    _t.id,
    _t.title,
    _t.description,
    _t.completed,
    _t.priority,
    _t.created_at,
    _t.due_date,
    _t.tags,
    _t.user_id,
    _t.version,
)
_SHARE_COUNT = (
    select(func.count()).where(_s.task_id == _t.id).correlate(tasks).scalar_subquery()
).label("share_count")
_NEW_TASK_COLUMNS = (
    "title",
    "description",
    "completed",
    "priority",
    "due_date",
    "tags",
    "user_id",
    "created_at",
)
_PRIORITY_RANK = case({"low": 0, "medium": 1, "high": 2}, value=_t.priority)

_INSERT = Query(
    tasks.insert()
    .values({name: bindparam(name) for name in _NEW_TASK_COLUMNS})
    .returning(*_TASK_COLUMNS),
    transactional=True,
)
_UPDATE_TASK = (
    update(tasks)
    .where(_t.id == bindparam("task_id"))
    .values(
        title=bindparam("title"),
        description=bindparam("description"),
        completed=bindparam("completed"),
        priority=bindparam("priority"),
        due_date=bindparam("due_date"),
        tags=bindparam("tags"),
        version=bindparam("version"),
    )
)
_UPDATE = Query(_UPDATE_TASK, transactional=True)
_TOUCH = Query(
    update(tasks).where(_t.id == bindparam("task_id")).values(version=_t.version + 1),
    transactional=True,
)
# The update and its activity entry in one statement (one round trip fewer per edit): the
# entry is inserted for the row the update returns, so a missing task logs nothing.
_CHANGED = _UPDATE_TASK.returning(_t.id).cte("changed")
_UPDATE_LOGGED = Query(
    activity_logs.insert().from_select(
        list(ENTRY_COLUMNS),
        select(
            *(bindparam(f"log_{name}", type_=activity_logs.c[name].type) for name in ENTRY_COLUMNS)
        ).select_from(_CHANGED),
    ),
    transactional=True,
)
_DELETE = Query(delete(tasks).where(_t.id == bindparam("task_id")), transactional=True)
_MARK_REMINDED = Query(
    update(tasks).where(_t.id == bindparam("task_id")).values(due_reminder_sent_for=bindparam("d")),
    transactional=True,
)

# The task and the caller's share on it in one statement; the lock, when asked, is only on
# the task row (the share row is on the nullable side of the join).
_WITH_SHARE = select(*_TASK_COLUMNS, _s.permission).outerjoin_from(
    tasks,
    task_shares,
    and_(_s.task_id == _t.id, _s.shared_with_user_id == bindparam("user_id")),
)
_one_with_share = _WITH_SHARE.where(_t.id == bindparam("task_id"))
_ONE_WITH_SHARE = Query(_one_with_share)
_ONE_WITH_SHARE_LOCKED = Query(_one_with_share.with_for_update(of=tasks), transactional=True)
# ORDER BY sits below the row locking, so rows are locked in id order: concurrent bulk
# updates of overlapping sets cannot deadlock on each other.
_many_with_share = _WITH_SHARE.where(_t.id == ids_param("task_ids").any_()).order_by(_t.id)
_MANY_WITH_SHARE = Query(_many_with_share)
_MANY_WITH_SHARE_LOCKED = Query(_many_with_share.with_for_update(of=tasks), transactional=True)

# A task's comments ride along with the task as one row per comment (NULLs when it has
# none), with their authors' names and the task's share count (`get_with_view`).
_c = task_comments.c
_counted_shares = task_shares.alias("counted_shares")
_COMMENT_COLUMNS = (
    _c.id.label("c_id"),
    _c.user_id.label("c_user_id"),
    _c.content.label("c_content"),
    _c.created_at.label("c_created_at"),
    _c.updated_at.label("c_updated_at"),
    users_table.c.username.label("c_username"),
)
_COMMENTS_WITH_AUTHORS = task_comments.join(users_table, users_table.c.id == _c.user_id)


def _share_count_of(task_id: ColumnElement[int]) -> Any:
    return (
        select(func.count())
        .select_from(_counted_shares)
        .where(_counted_shares.c.task_id == task_id)
        .scalar_subquery()
        .label("share_count")
    )


# The version as of the statement's snapshot. Locking waits for a concurrent writer and then
# returns the row as that writer left it, but the rows joined to it stay as of the snapshot:
# when the two versions differ, the comments and share count are read again (under the lock).
_as_of_snapshot = tasks.alias("as_of_snapshot")
_SNAPSHOT_VERSION = (
    select(_as_of_snapshot.c.version)
    .where(_as_of_snapshot.c.id == bindparam("task_id"))
    .scalar_subquery()
    .label("snapshot_version")
)
_one_view = (
    select(*_TASK_COLUMNS, _s.permission, _share_count_of(_t.id), *_COMMENT_COLUMNS)
    .select_from(
        tasks.outerjoin(
            task_shares,
            and_(_s.task_id == _t.id, _s.shared_with_user_id == bindparam("user_id")),
        ).outerjoin(_COMMENTS_WITH_AUTHORS, _c.task_id == _t.id)
    )
    .where(_t.id == bindparam("task_id"))
    .order_by(_c.created_at, _c.id)
)
_ONE_VIEW = Query(_one_view)
# Locks the task's row only (the comments' side of the join may be NULL).
_ONE_VIEW_LOCKED = Query(
    _one_view.add_columns(_SNAPSHOT_VERSION).with_for_update(of=tasks), transactional=True
)

# Comments and share counts of a list of tasks in ONE statement: a row per comment, or one
# row with NULL comment columns for a task without comments.
_VIEWS = Query(
    text(
        """
    SELECT t.id AS view_task_id, sc.n AS share_count,
           c.id, c.task_id, c.user_id, c.content, c.created_at, c.updated_at, u.username
    FROM unnest(CAST(:task_ids AS integer[])) AS t(id)
    CROSS JOIN LATERAL (
        SELECT count(*) AS n FROM faros.task_shares s WHERE s.task_id = t.id
    ) AS sc
    LEFT JOIN (faros.task_comments c JOIN faros.users u ON u.id = c.user_id)
        ON c.task_id = t.id
    ORDER BY c.created_at, c.id
    """
    ).bindparams(bindparam("task_ids", type_=ARRAY(Integer)))
)

_owner = users_table.alias("owner")
_SHARED_WITH = Query(
    select(
        *_TASK_COLUMNS,
        _SHARE_COUNT,
        _s.permission,
        _owner.c.username.label("owner_username"),
    )
    .select_from(
        task_shares.join(tasks, _t.id == _s.task_id).join(_owner, _owner.c.id == _t.user_id)
    )
    .where(_s.shared_with_user_id == bindparam("user_id"))
    .order_by(_s.id)
)

# §6 in one statement: counts with FILTER; tag occurrences grouped once in a CTE and
# returned as two parallel arrays (names, counts).
_STATS = Query(
    text(
        """
    WITH tag_counts AS (
        SELECT tag, count(*) AS n
        FROM faros.tasks t2, unnest(t2.tags) AS tag
        WHERE t2.user_id = :owner_id
        GROUP BY tag
    )
    SELECT count(*) AS total,
           count(*) FILTER (WHERE t.completed) AS completed,
           count(*) FILTER (
               WHERE NOT t.completed AND t.due_date IS NOT NULL AND t.due_date < :today
           ) AS overdue,
           count(*) FILTER (WHERE t.priority = 'low') AS low,
           count(*) FILTER (WHERE t.priority = 'medium') AS medium,
           count(*) FILTER (WHERE t.priority = 'high') AS high,
           (SELECT count(DISTINCT s.task_id) FROM faros.task_shares s
             WHERE s.shared_by_user_id = :owner_id) AS tasks_shared,
           (SELECT count(*) FROM faros.task_comments c
             WHERE c.user_id = :owner_id) AS comments_posted,
           ARRAY(SELECT tag FROM tag_counts ORDER BY tag) AS tag_names,
           ARRAY(SELECT n FROM tag_counts ORDER BY tag) AS tag_counts
    FROM faros.tasks t
    WHERE t.user_id = :owner_id
    """
    ).bindparams(bindparam("owner_id", type_=Integer), bindparam("today", type_=Date))
)

# The partial index on open tasks' due dates serves this; editors are the reminder's other
# recipients (D15).
_DUE_FOR_REMINDER = Query(
    text(
        """
    SELECT t.id, t.title, t.description, t.completed, t.priority, t.created_at, t.due_date,
           t.tags, t.user_id, t.version,
           ARRAY(SELECT s.shared_with_user_id FROM faros.task_shares s
                  WHERE s.task_id = t.id AND s.permission = 'edit'
                  ORDER BY s.shared_with_user_id) AS editor_ids
    FROM faros.tasks t
    WHERE t.completed = false
      AND t.due_date BETWEEN :start AND :end
      AND t.due_reminder_sent_for IS DISTINCT FROM t.due_date
    ORDER BY t.id
    """
    )
)


def task_from_row(row: Row[Any]) -> Task:
    return Task(
        id=row.id,
        title=row.title,
        description=row.description,
        completed=row.completed,
        priority=row.priority,
        created_at=utc(row.created_at),
        due_date=row.due_date,
        tags=list(row.tags),
        user_id=row.user_id,
        version=row.version,
    )


def _comment_of(row: Row[Any]) -> Comment:
    """The comment in a row of `_ONE_VIEW` or a page (its `c_*` columns; `id` is the task)."""
    return Comment(
        id=row.c_id,
        task_id=row.id,
        user_id=row.c_user_id,
        content=row.c_content,
        created_at=utc(row.c_created_at),
        updated_at=utc_or_none(row.c_updated_at),
        username=row.c_username,
    )


def _filters(t: Any) -> dict[str, ColumnElement[bool]]:
    """Every filter of D12 / API.md §3.3 by name, on the columns `t` of `tasks` or an alias.

    Values are left as parameters: a statement is built once per combination of filters and
    order, then reused from the caches below.
    """
    overdue = and_(t.due_date.is_not(None), t.completed == false(), t.due_date < bindparam("today"))
    return {
        "completed": t.completed == bindparam("completed"),
        "priority": t.priority == bindparam("priority"),
        "tags": t.tags.contains(bindparam("tags", type_=ARRAY(String))),  # `@>`: the GIN index
        "overdue": overdue,
        "not_overdue": not_(overdue),
        "search": or_(
            t.title.ilike(bindparam("pattern"), escape=LIKE_ESCAPE),
            t.description.ilike(bindparam("pattern"), escape=LIKE_ESCAPE),
        ),
        "created_after": t.created_at >= bindparam("created_from"),
        "created_before": t.created_at < bindparam("created_to"),
        "due_after": t.due_date >= bindparam("due_from"),
        "due_before": t.due_date <= bindparam("due_to"),
    }


_FILTERS = _filters(_t)
# Always true next to `user_id = :owner_id` (ids are positive), but only the (user_id, id)
# index can serve it: without it the planner may walk the primary key in id order and skip
# other users' rows, guessing they are spread evenly: for a user whose tasks are the newest,
# it read thousands of rows to find one page (bench/README.md).
_OWNER_INDEX_HINT = tuple_(_t.user_id, _t.id) > tuple_(
    bindparam("owner_id"), literal(INT32_MIN, Integer)
)
_counted = tasks.alias("counted")
_COUNTED_FILTERS = _filters(_counted.c)


def _criteria(query: TaskQuery, today: date) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The names of the filters `query` uses, and the values of their parameters."""
    used: list[str] = []
    values: dict[str, Any] = {}

    def use(name: str, **params: Any) -> None:
        used.append(name)
        values.update(params)

    if query.completed is not None:
        use("completed", completed=query.completed)
    if query.priority is not None:
        use("priority", priority=query.priority)
    if query.tags:
        use("tags", tags=list(query.tags))
    if query.overdue is not None:
        use("overdue" if query.overdue else "not_overdue", today=today)
    if query.search:
        use("search", pattern=contains_pattern(query.search))
    if query.created_after is not None:
        use("created_after", created_from=start_of_day(query.created_after))
    if query.created_before is not None:
        # The whole day is included (API.md §11 #25); the last date has no day after it.
        end = start_of_next_day(query.created_before)
        if end is not None:
            use("created_before", created_to=end)
    if query.due_after is not None:
        use("due_after", due_from=query.due_after)
    if query.due_before is not None:
        use("due_before", due_to=query.due_before)
    return tuple(used), values


def _order(sort_by: SortField | None, descending: bool) -> list[ColumnElement[Any]]:
    """The sort column, then `id` ascending as the tie-breaker (D12)."""
    match sort_by:
        case None:
            return [_t.id.asc()]
        case "id":
            return [_t.id.desc() if descending else _t.id.asc()]
        case "due_date":
            key = _t.due_date.desc().nulls_first() if descending else _t.due_date.asc().nulls_last()
            return [key, _t.id.asc()]
        case "priority":
            rank = _PRIORITY_RANK.desc() if descending else _PRIORITY_RANK.asc()
            return [rank, _t.id.asc()]
        case "title" | "completed" | "created_at" as name:
            column = _t[name]
            return [column.desc() if descending else column.asc(), _t.id.asc()]
    raise ValueError(f"unknown sort field {sort_by!r}")


@lru_cache(maxsize=256)
def _page_statement(
    filters: tuple[str, ...], sort_by: SortField | None, descending: bool
) -> Select[Any]:
    """The page, its total, its tasks' share counts and comments: one statement.

    The total is an uncorrelated subquery (run once, as an InitPlan): without filters it is
    an index-only count over the owner's index entries, and the page itself reads only its
    LIMIT rows. (`count(*) OVER ()` read and kept every matching row before the LIMIT, so the
    first page cost grew with the user's task count.)
    Comments come as one row per comment; `pos` keeps the page's order.
    """
    order = _order(sort_by, descending)
    total = (
        select(func.count())
        .select_from(_counted)
        .where(
            _counted.c.user_id == bindparam("owner_id"),
            *(_COUNTED_FILTERS[name] for name in filters),
        )
        .scalar_subquery()
    )
    page = (
        select(
            *_TASK_COLUMNS,
            total.label("total"),
            func.row_number().over(order_by=order).label("pos"),
        )
        .where(
            _t.user_id == bindparam("owner_id"),
            _OWNER_INDEX_HINT,
            *(_FILTERS[name] for name in filters),
        )
        .order_by(*order)
        .offset(bindparam("skip"))
        .limit(bindparam("limit"))
        .cte("page")
    )
    p = page.c
    # The comments of each page row through the (task_id, id) index: a LATERAL subquery,
    # kept from being flattened into a plain join by OFFSET 0. As a join, the planner hashed
    # every comment of every user for a 20-row page (bench/README.md).
    comments = (
        select(*_COMMENT_COLUMNS)
        .select_from(_COMMENTS_WITH_AUTHORS)
        .where(_c.task_id == p.id)
        .offset(literal_column("0"))
        .lateral("page_comments")
    )
    k = comments.c
    columns = [p[column.name] for column in _TASK_COLUMNS]
    return (
        select(
            *columns,
            p.total,
            _share_count_of(p.id),
            *(k[column.name] for column in _COMMENT_COLUMNS),
        )
        .select_from(page.outerjoin(comments, true()))
        .order_by(p.pos, k.c_created_at, k.c_id)
    )


@lru_cache(maxsize=256)
def _page_query(filters: tuple[str, ...], sort_by: SortField | None, descending: bool) -> Query:
    return Query(_page_statement(filters, sort_by, descending))


@lru_cache(maxsize=256)
def _count_query(filters: tuple[str, ...]) -> Query:
    return Query(
        select(func.count().label("total"))
        .select_from(tasks)
        .where(_t.user_id == bindparam("owner_id"), *(_FILTERS[name] for name in filters))
    )


def _has_impossible_values(query: TaskQuery) -> bool:
    return any(has_nul(value) for value in [*query.tags, query.search or ""])


def _share_params(task_id: int, user_id: int) -> dict[str, int]:
    # No user has id 0 (serial ids start at 1): an impossible caller simply has no share.
    return {"task_id": task_id, "user_id": user_id if is_int32(user_id) else 0}


class PostgresTaskRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, task: NewTask) -> Task:
        values = {
            "title": task.title,
            "description": task.description,
            "completed": task.completed,
            "priority": task.priority,
            "due_date": task.due_date,
            "tags": list(task.tags),
            "user_id": task.user_id,
            "created_at": task.created_at,
        }
        return task_from_row((await self._db.execute(_INSERT, values))[0])

    async def get_with_share(
        self, task_id: int, user_id: int, *, for_update: bool = False
    ) -> TaskWithShare | None:
        if not is_int32(task_id):
            return None
        query = _ONE_WITH_SHARE_LOCKED if for_update else _ONE_WITH_SHARE
        rows = await self._db.execute(query, _share_params(task_id, user_id))
        return TaskWithShare(task_from_row(rows[0]), rows[0].permission) if rows else None

    async def get_with_view(
        self, task_id: int, user_id: int, *, for_update: bool = False
    ) -> TaskWithView | None:
        if not is_int32(task_id):
            return None
        query = _ONE_VIEW_LOCKED if for_update else _ONE_VIEW
        params = _share_params(task_id, user_id)
        rows = await self._db.execute(query, params)
        if for_update and rows and rows[0].version != rows[0].snapshot_version:
            # Changed while this waited for the lock: a new statement sees that change whole.
            rows = await self._db.execute(query, params)
        if not rows:
            return None
        first = rows[0]
        comments = [_comment_of(row) for row in rows if row.c_id is not None]
        return TaskWithView(task_from_row(first), first.permission, comments, first.share_count)

    async def get_many_with_shares(
        self, task_ids: list[int], user_id: int, *, for_update: bool = False
    ) -> list[TaskWithShare]:
        wanted = int32_ids(task_ids)
        if not wanted:
            return []
        params = {"task_ids": wanted, "user_id": user_id if is_int32(user_id) else 0}
        query = _MANY_WITH_SHARE_LOCKED if for_update else _MANY_WITH_SHARE
        rows = await self._db.execute(query, params)
        return [TaskWithShare(task_from_row(row), row.permission) for row in rows]

    async def update(self, task: Task, change: NewActivity | None = None) -> None:
        params: dict[str, Any] = {
            "task_id": task.id,
            "title": task.title,
            "description": task.description,
            "completed": task.completed,
            "priority": task.priority,
            "due_date": task.due_date,
            "tags": list(task.tags),
            "version": task.version,
        }
        if change is None:
            await self._db.execute(_UPDATE, params)
        else:
            await self._db.execute(_UPDATE_LOGGED, params | entry_params(change, "log_"))

    async def touch(self, task_id: int) -> None:
        if is_int32(task_id):
            await self._db.execute(_TOUCH, {"task_id": task_id})

    async def delete(self, task_id: int) -> None:
        # Comments, shares and file rows go through ON DELETE CASCADE.
        if is_int32(task_id):
            await self._db.execute(_DELETE, {"task_id": task_id})

    async def views(self, tasks: list[Task]) -> list[TaskView]:
        if not tasks:
            return []
        ids = list(dict.fromkeys(task.id for task in tasks))
        comments: dict[int, list[Comment]] = {task_id: [] for task_id in ids}
        share_counts: dict[int, int] = {}
        for row in await self._db.execute(_VIEWS, {"task_ids": ids}):
            share_counts[row.view_task_id] = row.share_count
            if row.id is not None:
                comments[row.view_task_id].append(comment_from_row(row))
        return [
            task_view(task, list(comments[task.id]), share_counts.get(task.id, 0)) for task in tasks
        ]

    async def list_page(
        self, owner_id: int, query: TaskQuery, today: date
    ) -> tuple[list[TaskView], int]:
        if not is_int32(owner_id) or _has_impossible_values(query):
            return [], 0
        filters, params = _criteria(query, today)
        params["owner_id"] = owner_id
        page_query = _page_query(filters, query.sort_by, query.sort_order == "desc")
        params["skip"] = min(max(query.skip, 0), BIGINT_SAFE)
        params["limit"] = min(max(query.limit, 0), BIGINT_SAFE)
        rows = await self._db.execute(page_query, params)
        if not rows:
            if query.skip <= 0 and query.limit > 0:
                return [], 0
            # A page past the end carries no total; only then is it counted separately.
            counted = await self._db.execute(_count_query(filters), params)
            return [], int(counted[0].total)
        views: list[TaskView] = []
        for row in rows:
            if not views or views[-1].id != row.id:
                views.append(task_view(task_from_row(row), [], row.share_count))
            if row.c_id is not None:
                views[-1].comments.append(_comment_of(row))
        return views, int(rows[0].total)

    async def shared_with(self, user_id: int) -> list[SharedTaskView]:
        if not is_int32(user_id):
            return []
        rows = await self._db.execute(_SHARED_WITH, {"user_id": user_id})
        if not rows:
            return []
        comments = await comments_by_task(self._db, list(dict.fromkeys(row.id for row in rows)))
        return [
            SharedTaskView(
                task=task_view(task_from_row(row), list(comments[row.id]), row.share_count),
                permission=row.permission,
                owner_username=row.owner_username,
            )
            for row in rows
        ]

    async def stats(self, owner_id: int, today: date) -> TaskStats:
        if not is_int32(owner_id):
            return TaskStats(0, 0, 0, {}, {}, 0, 0, 0)
        row = (await self._db.execute(_STATS, {"owner_id": owner_id, "today": today}))[0]
        by_priority = {
            name: int(count)
            for name, count in (("low", row.low), ("medium", row.medium), ("high", row.high))
            if count
        }
        tag_counts = zip(row.tag_names, row.tag_counts, strict=True)
        by_tag = {tag: int(count) for tag, count in tag_counts}
        return TaskStats(
            total=int(row.total),
            completed=int(row.completed),
            incomplete=int(row.total) - int(row.completed),
            by_priority=by_priority,
            by_tag=by_tag,
            overdue=int(row.overdue),
            tasks_shared=int(row.tasks_shared),
            comments_posted=int(row.comments_posted),
        )

    async def due_for_reminder(self, start: date, end: date) -> list[DueTask]:
        rows = await self._db.execute(_DUE_FOR_REMINDER, {"start": start, "end": end})
        return [
            DueTask(
                task=task_from_row(row),
                recipient_ids=[row.user_id, *(i for i in row.editor_ids if i != row.user_id)],
            )
            for row in rows
        ]

    async def mark_reminded(self, task_id: int, due_date: date) -> None:
        if is_int32(task_id):
            await self._db.execute(_MARK_REMINDED, {"task_id": task_id, "d": due_date})

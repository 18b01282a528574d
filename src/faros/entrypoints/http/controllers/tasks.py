"""`/tasks`: create, list, read, update (single and bulk), tags, delete, statistics."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_204_NO_CONTENT,
    HTTP_304_NOT_MODIFIED,
    HTTP_412_PRECONDITION_FAILED,
)

from faros.domain.services.tasks import TaskService
from faros.domain.tasks import StaleTask, TaskChanges, TaskQuery, TaskView, parse_tag_filter
from faros.domain.users import User
from faros.entrypoints.http.controllers.created import created
from faros.entrypoints.http.deps import QUERY_FIRST, RateLimits, authenticated
from faros.entrypoints.http.error_bodies import Detail, ForbiddenOrRefused, TaskOrTagNotFoundBody
from faros.entrypoints.http.etags import (
    ETAG_HEADER,
    IfMatch,
    IfNoneMatch,
    etag_of,
    if_match,
    none_match,
)
from faros.entrypoints.http.idempotency import idempotent, idempotent_call
from faros.entrypoints.http.io import body_of, contract_body, task_id_of
from faros.entrypoints.http.openapi import (
    INVALID,
    PROTECTED,
    location,
    protected_errors,
    reply,
    task_errors,
)
from faros.entrypoints.http.schemas import (
    BulkUpdateIn,
    SharedTaskOut,
    Tags,
    TaskCreateIn,
    TaskListQuery,
    TaskOut,
    TaskPageOut,
    TaskPreconditionFailed,
    TaskStatsOut,
    TaskUpdateIn,
    out,
    out_list,
)
from faros.entrypoints.http.validation import IntPath, body_schema
from faros.ports.rate_limiter import RateLimit

CREATE_LIMIT = RateLimit(100, 3600)
NO_FIELDS = reply(Detail, "No fields provided for update")
STALE = reply(
    TaskPreconditionFailed,
    "`If-Match` names no version the task is at: it changed since it was read. The body has "
    "the task as it is now, the `ETag` header its tag",
)
NOT_MODIFIED = reply(None, "`If-None-Match` names the task as it is: no body, its `ETag` only")


def with_etag(task: TaskView, status_code: int = HTTP_200_OK) -> Response[TaskOut]:
    """A single task's answer: the task, and its strong `ETag`."""
    return Response(
        out(task, TaskOut),
        status_code=status_code,
        headers={"ETag": etag_of(task.id, task.version)},
    )


def stale_task(_: Request[Any, Any, Any], error: StaleTask) -> Response[TaskPreconditionFailed]:
    current = error.current
    return Response(
        TaskPreconditionFailed(detail=error.message, task=out(current, TaskOut)),
        status_code=HTTP_412_PRECONDITION_FAILED,
        headers={"ETag": etag_of(current.id, current.version)},
    )


@get(
    "/",
    summary="List your tasks",
    description=(
        "Any authenticated user; only the tasks they own (tasks shared with them are at "
        "`/tasks/shared-with-me`). Filters combine with AND; ordered by `id` unless `sort_by` "
        "says otherwise, then paged with `skip` and `limit`."
    ),
    query=TaskListQuery,
    dependencies=QUERY_FIRST,
    responses={**protected_errors(writes=False), 422: INVALID},
)
async def list_tasks(
    params: NamedDependency[TaskListQuery],
    tasks: NamedDependency[TaskService],
    user: NamedDependency[User],
) -> TaskPageOut:
    query = TaskQuery(
        completed=params.completed,
        priority=params.priority,
        tags=parse_tag_filter(params.tags),
        overdue=params.overdue,
        search=params.search or None,
        created_after=params.created_after,
        created_before=params.created_before,
        due_after=params.due_after,
        due_before=params.due_before,
        sort_by=params.sort_by,
        sort_order=params.sort_order,
        skip=params.skip,
        limit=params.limit,
    )
    page = await tasks.page(user, query)
    return out(page, TaskPageOut)


@idempotent
@post(
    "/",
    summary="Create a task",
    description=(
        "Any authenticated user (100 per hour), who becomes its owner. Writes a `created` "
        "task activity entry and answers the task with `Location: /tasks/{id}`."
    ),
    status_code=HTTP_201_CREATED,
    response_headers=[*location("the new task", "/tasks/42"), ETAG_HEADER],
    responses=protected_errors(writes=True, body=True, limited=True),
)
async def create_task(
    data: Annotated[TaskCreateIn, contract_body(TaskCreateIn)],
    tasks: NamedDependency[TaskService],
    user: NamedDependency[User],
    limits: NamedDependency[RateLimits],
    request: Request[Any, Any, Any],
) -> Response[TaskOut]:
    def respond(task: TaskView) -> Response[TaskOut]:
        answer = created(out(task, TaskOut), f"/tasks/{task.id}")
        answer.headers["ETag"] = etag_of(task.id, task.version)
        return answer

    await limits.by_user(user, CREATE_LIMIT, "create-task")
    task = await tasks.create(
        user,
        title=data.title,
        description=data.description,
        priority=data.priority,
        due_date=data.due_date,
        tags=data.tags,
        completed=data.completed,
        idempotency=await idempotent_call(request, respond),
    )
    return respond(task)


@get(
    "/stats",
    summary="Get your task statistics",
    description=(
        "Any authenticated user: counts over the tasks they own (by state, priority and tag, "
        "overdue), how many of them are shared, and how many comments they wrote. Cached up "
        "to 5 minutes; every change to those numbers refreshes it."
    ),
    responses=protected_errors(writes=False),
)
async def task_stats(
    tasks: NamedDependency[TaskService], user: NamedDependency[User]
) -> TaskStatsOut:
    return out(await tasks.stats(user), TaskStatsOut)


@idempotent
@patch(
    "/bulk",
    summary="Update several tasks at once",
    description=(
        "Any authenticated user with edit permission on every listed task; all or nothing. "
        "Each task that changes gets an `updated` activity entry, and completing a task "
        "someone else owns e-mails its owner if their preferences allow."
    ),
    responses={
        **protected_errors(writes=True, body=True),
        400: NO_FIELDS,
        403: reply(
            ForbiddenOrRefused,
            "No edit permission on one of the tasks (Family A), or a refused cross-site write (D4)",
        ),
        404: reply(Detail, "Some tasks do not exist: `Tasks not found: [<ids>]`"),
    },
)
async def bulk_update(
    data: Annotated[BulkUpdateIn, contract_body(BulkUpdateIn)],
    tasks: NamedDependency[TaskService],
    user: NamedDependency[User],
    request: Request[Any, Any, Any],
) -> Response[list[TaskOut]]:
    def respond(views: list[TaskView]) -> Response[list[TaskOut]]:
        return Response(out_list(views, TaskOut))

    changes = TaskChanges(data.updates.changes())
    call = await idempotent_call(request, respond)
    return respond(await tasks.bulk_update(user, data.task_ids, changes, call))


@get(
    "/shared-with-me",
    summary="List tasks shared with you",
    description=(
        "Any authenticated user: every task others shared with them, with the permission they "
        "hold and the owner's username."
    ),
    responses=protected_errors(writes=False),
)
async def shared_with_me(
    tasks: NamedDependency[TaskService], user: NamedDependency[User]
) -> list[SharedTaskOut]:
    shared = await tasks.shared_with_me(user)
    return [
        SharedTaskOut(
            task=out(item.task, TaskOut),
            permission=item.permission,
            is_owner=False,
            owner_username=item.owner_username,
        )
        for item in shared
    ]


@get(
    "/{task_id:str}",
    summary="Get a task",
    description=(
        "Anyone with view permission on the task (its owner or anyone it is shared with). The "
        "task with its comments and share count, and its `ETag`; with `If-None-Match` "
        "naming that tag, 304 and no body."
    ),
    response_headers=[ETAG_HEADER],
    responses={**task_errors(writes=False), 304: NOT_MODIFIED},
)
async def get_task(
    task_id: IntPath,
    tasks: NamedDependency[TaskService],
    user: NamedDependency[User],
    if_none_match: IfNoneMatch = None,
) -> Response[TaskOut]:
    task = await tasks.get(user, task_id_of(task_id))
    if none_match(if_none_match, task.id, task.version):
        not_modified: Response[Any] = Response(
            None,
            status_code=HTTP_304_NOT_MODIFIED,
            headers={"ETag": etag_of(task.id, task.version)},
        )
        return not_modified
    return with_etag(task)


@patch(
    "/{task_id:str}",
    summary="Update a task",
    description=(
        "Its owner, or a user it is shared with for edit. Changes only the fields sent and "
        "writes an `updated` activity entry when something changes; completing a task someone "
        "else owns e-mails its owner if their preferences allow. With `If-Match`, only if "
        "the task is still at a version it names (412 otherwise)."
    ),
    response_headers=[ETAG_HEADER],
    responses={
        **task_errors(writes=True, body=True, needs="edit"),
        400: NO_FIELDS,
        412: STALE,
    },
)
async def update_task(
    task_id: IntPath,
    data: Annotated[TaskUpdateIn, contract_body(TaskUpdateIn)],
    tasks: NamedDependency[TaskService],
    user: NamedDependency[User],
    if_match_header: IfMatch = None,
) -> Response[TaskOut]:
    wanted = task_id_of(task_id)
    changes = TaskChanges(data.changes())
    task = await tasks.update(user, wanted, changes, if_match(if_match_header, wanted))
    return with_etag(task)


@delete(
    "/{task_id:str}",
    summary="Delete a task",
    description=(
        "Its owner only. Deletes the task with its comments, files and shares and writes a "
        "`deleted` task activity entry (which stays); the stored files are removed in the "
        "background. With `If-Match`, only if the task is still at a version it names (412 "
        "otherwise)."
    ),
    status_code=HTTP_204_NO_CONTENT,
    responses={**task_errors(writes=True, needs="owner"), 412: STALE},
)
async def delete_task(
    task_id: IntPath,
    tasks: NamedDependency[TaskService],
    user: NamedDependency[User],
    if_match_header: IfMatch = None,
) -> None:
    wanted = task_id_of(task_id)
    await tasks.delete(user, wanted, if_match(if_match_header, wanted))


@post(
    "/{task_id:str}/tags",
    summary="Add tags to a task",
    description=(
        "Its owner, or a user it is shared with for edit. The body is a JSON array of tags; "
        "those the task lacks are appended, and an `updated` activity entry is written when "
        "the tags change. With `If-Match`, only if the task is still at a version it names "
        "(412 otherwise)."
    ),
    status_code=HTTP_200_OK,
    body=body_schema(Tags),
    dependencies={"tags": body_of(Tags)},
    response_headers=[ETAG_HEADER],
    responses={**task_errors(writes=True, body=True, needs="edit"), 412: STALE},
)
async def add_tags(
    task_id: IntPath,
    tags: NamedDependency[list[str]],
    tasks: NamedDependency[TaskService],
    user: NamedDependency[User],
    if_match_header: IfMatch = None,
) -> Response[TaskOut]:
    wanted = task_id_of(task_id)
    return with_etag(await tasks.add_tags(user, wanted, tags, if_match(if_match_header, wanted)))


@delete(
    "/{task_id:str}/tags/{tag:str}",
    summary="Remove a tag from a task",
    description=(
        "Its owner, or a user it is shared with for edit. Removes the tag named in the path "
        "(404 when the task has none such) and writes an `updated` activity entry. With "
        "`If-Match`, only if the task is still at a version it names (412 otherwise)."
    ),
    status_code=HTTP_200_OK,
    response_headers=[ETAG_HEADER],
    responses={
        **task_errors(writes=True, needs="edit"),
        404: reply(TaskOrTagNotFoundBody, "Task not found, or the task has no such tag (Family A)"),
        412: STALE,
    },
)
async def remove_tag(
    task_id: IntPath,
    tag: FromPath[str],
    tasks: NamedDependency[TaskService],
    user: NamedDependency[User],
    if_match_header: IfMatch = None,
) -> Response[TaskOut]:
    wanted = task_id_of(task_id)
    return with_etag(await tasks.remove_tag(user, wanted, tag, if_match(if_match_header, wanted)))


router = Router(
    path="/tasks",
    route_handlers=[
        list_tasks,
        create_task,
        task_stats,
        bulk_update,
        shared_with_me,
        get_task,
        update_task,
        delete_task,
        add_tags,
        remove_tag,
    ],
    guards=[authenticated],
    exception_handlers={StaleTask: stale_task},
    security=PROTECTED,
    tags=["tasks"],
)

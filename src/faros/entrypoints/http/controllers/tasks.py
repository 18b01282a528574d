"""`/tasks`: create, list, read, update (single and bulk), tags, delete, statistics."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, Router, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from faros.domain.services.tasks import TaskService
from faros.domain.tasks import TaskChanges, TaskQuery, parse_tag_filter
from faros.domain.users import User
from faros.entrypoints.http.controllers.created import created
from faros.entrypoints.http.deps import QUERY_FIRST, RateLimits, authenticated
from faros.entrypoints.http.error_bodies import Detail, TaskForbiddenBody, TaskOrTagNotFoundBody
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
    TaskStatsOut,
    TaskUpdateIn,
    out,
    out_list,
)
from faros.entrypoints.http.validation import IntPath
from faros.ports.rate_limiter import RateLimit

CREATE_LIMIT = RateLimit(100, 3600)
NO_FIELDS = reply(Detail, "No fields provided for update")


@get(
    "/",
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


@post(
    "/",
    status_code=HTTP_201_CREATED,
    response_headers=location("the new task", "/tasks/42"),
    responses=protected_errors(writes=True, body=True, limited=True),
)
async def create_task(
    data: Annotated[TaskCreateIn, contract_body(TaskCreateIn)],
    tasks: NamedDependency[TaskService],
    user: NamedDependency[User],
    limits: NamedDependency[RateLimits],
) -> Response[TaskOut]:
    await limits.by_user(user, CREATE_LIMIT, "create-task")
    task = await tasks.create(
        user,
        title=data.title,
        description=data.description,
        priority=data.priority,
        due_date=data.due_date,
        tags=data.tags,
        completed=data.completed,
    )
    return created(out(task, TaskOut), f"/tasks/{task.id}")


@get("/stats", responses=protected_errors(writes=False))
async def task_stats(
    tasks: NamedDependency[TaskService], user: NamedDependency[User]
) -> TaskStatsOut:
    return out(await tasks.stats(user), TaskStatsOut)


@patch(
    "/bulk",
    responses={
        **protected_errors(writes=True, body=True),
        400: NO_FIELDS,
        403: reply(
            TaskForbiddenBody | Detail,
            "No edit permission on one of the tasks (Family A), or a refused cross-site write (D4)",
        ),
        404: reply(Detail, "Some tasks do not exist: `Tasks not found: [<ids>]`"),
    },
)
async def bulk_update(
    data: Annotated[BulkUpdateIn, contract_body(BulkUpdateIn)],
    tasks: NamedDependency[TaskService],
    user: NamedDependency[User],
) -> list[TaskOut]:
    updated = await tasks.bulk_update(user, data.task_ids, TaskChanges(data.updates.changes()))
    return out_list(updated, TaskOut)


@get("/shared-with-me", responses=protected_errors(writes=False))
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


@get("/{task_id:str}", responses=task_errors(writes=False))
async def get_task(
    task_id: IntPath, tasks: NamedDependency[TaskService], user: NamedDependency[User]
) -> TaskOut:
    return out(await tasks.get(user, task_id_of(task_id)), TaskOut)


@patch(
    "/{task_id:str}",
    responses={**task_errors(writes=True, body=True, needs="edit"), 400: NO_FIELDS},
)
async def update_task(
    task_id: IntPath,
    data: Annotated[TaskUpdateIn, contract_body(TaskUpdateIn)],
    tasks: NamedDependency[TaskService],
    user: NamedDependency[User],
) -> TaskOut:
    task = await tasks.update(user, task_id_of(task_id), TaskChanges(data.changes()))
    return out(task, TaskOut)


@delete(
    "/{task_id:str}",
    status_code=HTTP_204_NO_CONTENT,
    responses=task_errors(writes=True, needs="owner"),
)
async def delete_task(
    task_id: IntPath, tasks: NamedDependency[TaskService], user: NamedDependency[User]
) -> None:
    await tasks.delete(user, task_id_of(task_id))


@post(
    "/{task_id:str}/tags",
    status_code=HTTP_200_OK,
    body=list[str],
    dependencies={"tags": body_of(Tags)},
    responses=task_errors(writes=True, body=True, needs="edit"),
)
async def add_tags(
    task_id: IntPath,
    tags: NamedDependency[list[str]],
    tasks: NamedDependency[TaskService],
    user: NamedDependency[User],
) -> TaskOut:
    return out(await tasks.add_tags(user, task_id_of(task_id), tags), TaskOut)


@delete(
    "/{task_id:str}/tags/{tag:str}",
    status_code=HTTP_200_OK,
    responses={
        **task_errors(writes=True, needs="edit"),
        404: reply(TaskOrTagNotFoundBody, "Task not found, or the task has no such tag (Family A)"),
    },
)
async def remove_tag(
    task_id: IntPath,
    tag: FromPath[str],
    tasks: NamedDependency[TaskService],
    user: NamedDependency[User],
) -> TaskOut:
    return out(await tasks.remove_tag(user, task_id_of(task_id), tag), TaskOut)


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
    security=PROTECTED,
    tags=["tasks"],
)

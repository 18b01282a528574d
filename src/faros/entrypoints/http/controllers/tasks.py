"""`/tasks`: create, list, read, update (single and bulk), tags, delete, statistics."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, delete, get, patch, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from faros.domain.tasks import TaskChanges, TaskQuery, parse_tag_filter
from faros.entrypoints.http.deps import authenticated, caller, container_of, limit_by_user
from faros.entrypoints.http.io import read_body, read_query, task_id_of
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


@get("/", query=TaskListQuery)
async def list_tasks(request: Request[Any, Any, Any]) -> TaskPageOut:
    params = read_query(request, TaskListQuery)
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
    page = await container_of(request).tasks.page(caller(request), query)
    return out(page, TaskPageOut)


@post("/", status_code=HTTP_201_CREATED, body=TaskCreateIn)
async def create_task(request: Request[Any, Any, Any]) -> TaskOut:
    data = await read_body(request, TaskCreateIn)
    await limit_by_user(request, CREATE_LIMIT, "create-task")
    task = await container_of(request).tasks.create(
        caller(request),
        title=data.title,
        description=data.description,
        priority=data.priority,
        due_date=data.due_date,
        tags=data.tags,
        completed=data.completed,
    )
    return out(task, TaskOut)


@get("/stats")
async def task_stats(request: Request[Any, Any, Any]) -> TaskStatsOut:
    return out(await container_of(request).tasks.stats(caller(request)), TaskStatsOut)


@patch("/bulk", body=BulkUpdateIn)
async def bulk_update(request: Request[Any, Any, Any]) -> list[TaskOut]:
    data = await read_body(request, BulkUpdateIn)
    tasks = await container_of(request).tasks.bulk_update(
        caller(request), data.task_ids, TaskChanges(data.updates.changes())
    )
    return out_list(tasks, TaskOut)


@get("/shared-with-me")
async def shared_with_me(request: Request[Any, Any, Any]) -> list[SharedTaskOut]:
    shared = await container_of(request).tasks.shared_with_me(caller(request))
    return [
        SharedTaskOut(
            task=out(item.task, TaskOut),
            permission=item.permission,
            is_owner=False,
            owner_username=item.owner_username,
        )
        for item in shared
    ]


@get("/{task_id:str}")
async def get_task(request: Request[Any, Any, Any], task_id: IntPath) -> TaskOut:
    task = await container_of(request).tasks.get(caller(request), task_id_of(task_id))
    return out(task, TaskOut)


@patch("/{task_id:str}", body=TaskUpdateIn)
async def update_task(request: Request[Any, Any, Any], task_id: IntPath) -> TaskOut:
    data = await read_body(request, TaskUpdateIn)
    task = await container_of(request).tasks.update(
        caller(request), task_id_of(task_id), TaskChanges(data.changes())
    )
    return out(task, TaskOut)


@delete("/{task_id:str}", status_code=HTTP_204_NO_CONTENT)
async def delete_task(request: Request[Any, Any, Any], task_id: IntPath) -> None:
    await container_of(request).tasks.delete(caller(request), task_id_of(task_id))


# `body=` is documentation only, and Litestar deep-copies it: an `Annotated[..., Meta]` alias
# cannot be copied, so the plain list type is declared and `Tags` does the validation.
@post("/{task_id:str}/tags", status_code=HTTP_200_OK, body=list[str])
async def add_tags(request: Request[Any, Any, Any], task_id: IntPath) -> TaskOut:
    tags = await read_body(request, Tags)
    task = await container_of(request).tasks.add_tags(
        caller(request), task_id_of(task_id), list(tags)
    )
    return out(task, TaskOut)


@delete("/{task_id:str}/tags/{tag:str}", status_code=HTTP_200_OK)
async def remove_tag(request: Request[Any, Any, Any], task_id: IntPath, tag: str) -> TaskOut:
    task = await container_of(request).tasks.remove_tag(caller(request), task_id_of(task_id), tag)
    return out(task, TaskOut)


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
    tags=["tasks"],
)

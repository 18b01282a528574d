"""Reaching a task under a permission, and the base of the use cases that do."""

from __future__ import annotations

from faros.domain.errors import TaskNotFound
from faros.domain.permissions import AccessLevel, access_level, require
from faros.domain.services.webhook_events import WebhookEvents
from faros.domain.tasks import Task
from faros.ports.cache import Cache
from faros.ports.clock import Clock
from faros.ports.task_repository import TaskWithView
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory


class TaskScopedService:
    """What the task, sharing and comment use cases share: transactions, time, the stats
    cache to invalidate, and the frontend address their e-mails link to."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        cache: Cache,
        frontend_url: str,
        *,
        webhooks: WebhookEvents | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._cache = cache
        self._frontend_url = frontend_url
        # Queues webhook events in the writing transactions (None: no webhooks wired).
        self._webhooks = webhooks


async def load_task(
    uow: UnitOfWork,
    task_id: int,
    caller_id: int,
    needed: AccessLevel,
    *,
    for_update: bool = False,
) -> tuple[Task, AccessLevel]:
    """The task if it exists (404 otherwise) and the caller reaches `needed` (403 otherwise)."""
    found = await uow.tasks.get_with_share(task_id, caller_id, for_update=for_update)
    if found is None:
        raise TaskNotFound(task_id)
    level = access_level(found.task.user_id, caller_id, found.share)
    require(level, needed)
    return found.task, level


async def load_task_with_view(
    uow: UnitOfWork,
    task_id: int,
    caller_id: int,
    needed: AccessLevel,
    *,
    for_update: bool = False,
) -> TaskWithView:
    """`load_task`, with the comments and share count the task's view shows."""
    found = await uow.tasks.get_with_view(task_id, caller_id, for_update=for_update)
    if found is None:
        raise TaskNotFound(task_id)
    require(access_level(found.task.user_id, caller_id, found.share), needed)
    return found

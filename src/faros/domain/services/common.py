"""Helpers every use case shares: loading a task under a permission, stats cache keys, mail."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from faros.domain import outbox
from faros.domain.emails import EmailMessage
from faros.domain.errors import TaskNotFound
from faros.domain.notifications import NotificationEvent, should_notify
from faros.domain.permissions import AccessLevel, access_level, require
from faros.domain.tasks import Task
from faros.ports.cache import Cache
from faros.ports.clock import Clock
from faros.ports.task_repository import TaskWithView
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

STATS_TTL_SECONDS = 300


class TaskScopedService:
    """What the task, sharing and comment use cases share: transactions, time, the stats
    cache to invalidate, and the frontend address their e-mails link to."""

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, cache: Cache, frontend_url: str
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._cache = cache
        self._frontend_url = frontend_url


def stats_key(user_id: int) -> str:
    return f"stats:user_{user_id}"


async def invalidate_stats(cache: Cache, user_ids: Iterable[int]) -> None:
    keys = sorted({stats_key(user_id) for user_id in user_ids})
    if keys:
        await cache.delete(*keys)


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


async def notify(
    uow: UnitOfWork,
    recipient_id: int,
    event: NotificationEvent,
    now: datetime,
    compose: Callable[[str], EmailMessage],
    dedupe_key: str | None = None,
) -> bool:
    """Queue an event e-mail in this transaction when the recipient's preferences allow it."""
    preferences = await uow.preferences.get_or_create(recipient_id, now)
    if not should_notify(preferences, event):
        return False
    recipient = await uow.users.get(recipient_id)
    if recipient is None:
        return False
    await uow.outbox.add(outbox.send_email(compose(recipient.email), dedupe_key), now)
    return True

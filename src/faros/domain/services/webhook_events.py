"""Webhook events: queued in the writing transaction for every subscriber who may see the task.

One outbox message (kind `webhook`) per subscribed webhook, after the subscribers' access to
the task has been checked *then*: a change that rolls back sends nothing, and a user whose share
was removed gets no event about the task from that moment on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from faros.domain import outbox
from faros.domain.comments import Comment
from faros.domain.files import StoredFile
from faros.domain.sharing import Share
from faros.domain.tasks import Task, TaskView
from faros.domain.webhooks import event_body, new_event_id
from faros.ports.event_data import EventData
from faros.ports.unit_of_work import UnitOfWork


class WebhookEvents:
    """Queues one outbox message per webhook subscribed to an event about a task.

    Called inside the writing use case's unit of work, so the event commits with the change.
    Subscribers are the task's owner and the users it is shared with at that moment.
    """

    def __init__(self, data: EventData) -> None:
        self.data = data

    async def emit(
        self,
        uow: UnitOfWork,
        event_type: str,
        task: Task | TaskView,
        now: datetime,
        data: Callable[[], Awaitable[dict[str, Any]]],
    ) -> None:
        """`data` is built only when someone subscribes: most writes pay one query."""
        webhooks = await uow.webhooks.for_event(task.id, task.user_id, event_type)
        if not webhooks:
            return
        event_id = new_event_id()
        body = event_body(event_id, event_type, now, await data())
        for webhook in webhooks:
            message = outbox.webhook_delivery(webhook.id, event_id, event_type, body)
            await uow.outbox.add(message, now)

    async def task(self, uow: UnitOfWork, event_type: str, view: TaskView, now: datetime) -> None:
        async def data() -> dict[str, Any]:
            return self.data.task(view)

        await self.emit(uow, event_type, view, now, data)

    async def task_changed(self, uow: UnitOfWork, before: Task, after: Task, now: datetime) -> None:
        """`task.updated`, and `task.completed` when the change completed the task."""

        async def data() -> dict[str, Any]:
            views = await uow.tasks.views([after])
            return self.data.task(views[0])

        await self.emit(uow, "task.updated", after, now, data)
        if after.completed and not before.completed:
            await self.emit(uow, "task.completed", after, now, data)

    async def comment_created(
        self, uow: UnitOfWork, task: Task, comment: Comment, now: datetime
    ) -> None:
        async def data() -> dict[str, Any]:
            return self.data.comment(comment)

        await self.emit(uow, "comment.created", task, now, data)

    async def share(
        self, uow: UnitOfWork, event_type: str, task: Task, share: Share, now: datetime
    ) -> None:
        async def data() -> dict[str, Any]:
            return self.data.share(share)

        await self.emit(uow, event_type, task, now, data)

    async def file_uploaded(
        self, uow: UnitOfWork, task: Task, stored: StoredFile, now: datetime
    ) -> None:
        async def data() -> dict[str, Any]:
            return self.data.file(stored)

        await self.emit(uow, "file.uploaded", task, now, data)

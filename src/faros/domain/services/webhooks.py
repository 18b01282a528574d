"""Webhooks: managing a user's subscriptions, emitting task events, delivering them.

Events are queued as outbox messages (kind `webhook`, one per subscribed webhook) in the
transaction of the change they report, after the subscribers' access to the task has been
checked *then*: a change that rolls back sends nothing, and a user whose share was removed
gets no event about the task from that moment on. The outbox worker delivers each message
with `WebhookDeliverer` (at least once, retried for a day, see `faros.domain.outbox`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from faros.domain import outbox
from faros.domain.comments import Comment
from faros.domain.errors import Conflict, FieldInvalid, Invalid, NotFound
from faros.domain.files import StoredFile
from faros.domain.outbox import OutboxMessage
from faros.domain.sharing import Share
from faros.domain.tasks import Task, TaskView
from faros.domain.text import require_clean_text
from faros.domain.users import User
from faros.domain.webhooks import (
    DELIVERIES_KEPT,
    DELIVERIES_LISTED,
    EVENT_TYPES,
    MAX_WEBHOOKS_PER_USER,
    PING,
    Delivery,
    NewDelivery,
    NewWebhook,
    Webhook,
    check_url,
    disabled_email,
    event_body,
    new_event_id,
    new_secret,
    should_disable,
    signed_headers,
)
from faros.ports.clock import Clock
from faros.ports.event_data import EventData
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from faros.ports.webhook_sender import WebhookSender

logger = logging.getLogger("faros.webhooks")

WEBHOOK_NOT_FOUND = "Webhook not found"
DELIVERY_NOT_FOUND = "Delivery not found"
NO_FIELDS = "No fields provided for update"
URL_AT = ("body", "url")
EVENTS_AT = ("body", "events")
DESCRIPTION_AT = ("body", "description")


class WebhookFailed(Exception):
    """A delivery attempt failed; the outbox retries it later."""


def _check_events(events: list[str]) -> list[str]:
    if not events:
        raise FieldInvalid(EVENTS_AT, "Subscribe to at least one event", events)
    unknown = [event for event in events if event not in EVENT_TYPES]
    if unknown:
        raise FieldInvalid(EVENTS_AT, f"Unknown events: {unknown}", events)
    return list(dict.fromkeys(events))


class WebhookService:
    """The owner's side: create, list, read, change, delete, deliveries, redeliver, ping.

    Only the owner sees a webhook; to anyone else it does not exist (404).
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        sender: WebhookSender,
        *,
        allow_http: bool,
        allow_private: bool,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._sender = sender
        self._allow_http = allow_http
        self._allow_private = allow_private

    async def _check_url(self, url: str) -> None:
        check_url(url, allow_http=self._allow_http, loc=URL_AT)
        if not self._allow_private:
            refusal = await self._sender.refusal(url)
            if refusal is not None:
                raise FieldInvalid(URL_AT, f"The URL's host is refused: {refusal}", url)

    async def create(
        self, caller: User, url: str, events: list[str], description: str | None
    ) -> Webhook:
        wanted = _check_events(events)
        if description is not None:
            require_clean_text(DESCRIPTION_AT, description, multiline=True)
        await self._check_url(url)
        now = self._clock.now()
        async with self._uow() as uow:
            if len(await uow.webhooks.for_user(caller.id)) >= MAX_WEBHOOKS_PER_USER:
                raise Conflict(f"A user may have at most {MAX_WEBHOOKS_PER_USER} webhooks")
            webhook = await uow.webhooks.add(
                NewWebhook(caller.id, url, wanted, description, new_secret(), now)
            )
            await uow.commit()
        return webhook

    async def of_user(self, caller: User) -> list[Webhook]:
        async with self._uow() as uow:
            return await uow.webhooks.for_user(caller.id)

    async def _own(self, uow: UnitOfWork, caller: User, webhook_id: int, lock: bool) -> Webhook:
        webhook = await uow.webhooks.get(webhook_id, for_update=lock)
        if webhook is None or webhook.user_id != caller.id:
            raise NotFound(WEBHOOK_NOT_FOUND)
        return webhook

    async def get(self, caller: User, webhook_id: int) -> Webhook:
        async with self._uow() as uow:
            return await self._own(uow, caller, webhook_id, lock=False)

    async def update(self, caller: User, webhook_id: int, changes: dict[str, Any]) -> Webhook:
        """`changes`: any of url, events, description, enabled. Enabling clears the failures."""
        if not changes:
            raise Invalid(NO_FIELDS)
        if "events" in changes:
            changes["events"] = _check_events(changes["events"])
        if changes.get("description") is not None:
            require_clean_text(DESCRIPTION_AT, changes["description"], multiline=True)
        if "url" in changes:
            await self._check_url(changes["url"])
        now = self._clock.now()
        async with self._uow() as uow:
            webhook = await self._own(uow, caller, webhook_id, lock=True)
            updated = replace(webhook, **changes, updated_at=now)
            if changes.get("enabled") is True and not webhook.enabled:
                updated = replace(
                    updated, consecutive_failures=0, failing_since=None, disabled_reason=None
                )
            if changes.get("enabled") is False:
                updated = replace(updated, disabled_reason="disabled by its owner")
            await uow.webhooks.update(updated)
            await uow.commit()
        return updated

    async def delete(self, caller: User, webhook_id: int) -> None:
        async with self._uow() as uow:
            await self._own(uow, caller, webhook_id, lock=True)
            await uow.webhooks.delete(webhook_id)
            await uow.commit()

    async def deliveries(self, caller: User, webhook_id: int) -> list[Delivery]:
        async with self._uow() as uow:
            await self._own(uow, caller, webhook_id, lock=False)
            return await uow.webhooks.deliveries(webhook_id, DELIVERIES_LISTED)

    async def redeliver(self, caller: User, webhook_id: int, delivery_id: int) -> str:
        """Queue the delivery's event again, same id and body (receivers may deduplicate)."""
        now = self._clock.now()
        async with self._uow() as uow:
            await self._own(uow, caller, webhook_id, lock=False)
            delivery = await uow.webhooks.get_delivery(webhook_id, delivery_id)
            if delivery is None:
                raise NotFound(DELIVERY_NOT_FOUND)
            message = outbox.webhook_delivery(
                webhook_id, delivery.event_id, delivery.event_type, delivery.body, manual=True
            )
            await uow.outbox.add(message, now)
            await uow.commit()
        return delivery.event_id

    async def ping(self, caller: User, webhook_id: int) -> str:
        """Queue a `webhook.ping` event; returns its id."""
        now = self._clock.now()
        event_id = new_event_id()
        async with self._uow() as uow:
            webhook = await self._own(uow, caller, webhook_id, lock=False)
            data = {"webhook_id": webhook.id, "url": webhook.url}
            body = event_body(event_id, PING, now, data)
            message = outbox.webhook_delivery(webhook.id, event_id, PING, body, manual=True)
            await uow.outbox.add(message, now)
            await uow.commit()
        return event_id


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


class WebhookDeliverer:
    """The outbox handler of `webhook` messages: sign, send once, record the attempt.

    The attempt is recorded (and the webhook's failure count kept) in its own transaction after
    the call; a failure then raises `WebhookFailed` so the outbox retries the message. A
    webhook failing `DISABLE_AFTER_FAILURES` attempts or `DISABLE_AFTER_FAILING_FOR` in a row is
    disabled and its owner e-mailed, in that same transaction.
    """

    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, sender: WebhookSender, frontend_url: str
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._sender = sender
        self._frontend_url = frontend_url

    async def deliver(self, message: OutboxMessage) -> None:
        payload = message.payload
        webhook_id = int(payload["webhook_id"])
        event_id = str(payload["event_id"])
        event_type = str(payload["event_type"])
        body = str(payload["body"])
        manual = bool(payload.get("manual", False))
        async with self._uow() as uow:
            webhook = await uow.webhooks.get(webhook_id)
        if webhook is None or not (webhook.enabled or manual):
            return  # deleted or disabled since: nothing to deliver
        timestamp = int(self._clock.now().timestamp())
        headers = signed_headers(webhook.secret, event_id, timestamp, body)
        result = await self._sender.send(webhook.url, headers, body)
        now = self._clock.now()
        async with self._uow() as uow:
            current = await uow.webhooks.get(webhook_id, for_update=True)
            if current is None:
                return
            await uow.webhooks.add_delivery(
                NewDelivery(
                    webhook_id=webhook_id,
                    event_id=event_id,
                    event_type=event_type,
                    body=body,
                    attempt=message.attempts,
                    status="succeeded" if result.succeeded else "failed",
                    response_code=result.response_code,
                    duration_ms=result.duration_ms,
                    error=None if result.succeeded else result.failure()[:1000],
                    created_at=now,
                )
            )
            await uow.webhooks.prune_deliveries(webhook_id, DELIVERIES_KEPT)
            await self._count(uow, current, result.succeeded, now)
            await uow.commit()
        if not result.succeeded:
            raise WebhookFailed(result.failure())

    async def _count(
        self, uow: UnitOfWork, webhook: Webhook, succeeded: bool, now: datetime
    ) -> None:
        if succeeded:
            if webhook.consecutive_failures or webhook.failing_since is not None:
                await uow.webhooks.update(
                    replace(webhook, consecutive_failures=0, failing_since=None)
                )
            return
        failing = replace(
            webhook,
            consecutive_failures=webhook.consecutive_failures + 1,
            failing_since=webhook.failing_since or now,
        )
        if failing.enabled and should_disable(failing, now):
            failing = replace(
                failing,
                enabled=False,
                disabled_reason=(
                    f"{failing.consecutive_failures} delivery attempts in a row failed, "
                    f"the first at {failing.failing_since:%Y-%m-%d %H:%M} UTC"
                ),
            )
            owner = await uow.users.get(webhook.user_id)
            if owner is not None:
                email = disabled_email(owner.email, failing, self._frontend_url)
                await uow.outbox.add(outbox.send_email(email), now)
            logger.warning("webhook %s disabled: %s", webhook.id, failing.disabled_reason)
        await uow.webhooks.update(failing)

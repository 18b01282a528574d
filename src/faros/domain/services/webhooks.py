"""Webhooks, the owner's side: create, list, read, change, delete, deliveries, redeliver, ping.

Events are queued by `webhook_events.WebhookEvents` in the writing transactions and delivered
by `webhook_delivery.WebhookDeliverer`, the outbox handler of `webhook` messages (at least
once, retried for a day: see `faros.domain.outbox`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from faros.domain import outbox
from faros.domain.errors import Conflict, FieldInvalid, Invalid, NotFound
from faros.domain.services.idempotency import IdempotentCall, claim_key, keep_answer
from faros.domain.text import require_clean_text
from faros.domain.users import User
from faros.domain.webhooks import (
    DELIVERIES_LISTED,
    EVENT_TYPES,
    MAX_WEBHOOKS_PER_USER,
    PING,
    Delivery,
    NewWebhook,
    Webhook,
    check_url,
    event_body,
    new_event_id,
    new_secret,
)
from faros.ports.clock import Clock
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from faros.ports.webhook_sender import WebhookSender

logger = logging.getLogger("faros.webhooks")

WEBHOOK_NOT_FOUND = "Webhook not found"
DELIVERY_NOT_FOUND = "Delivery not found"
NO_FIELDS = "No fields provided for update"
URL_AT = ("body", "url")
EVENTS_AT = ("body", "events")
DESCRIPTION_AT = ("body", "description")


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
        await self._check_host(url)

    async def _check_host(self, url: str) -> None:
        if not self._allow_private:
            refusal = await self._sender.refusal(url)
            if refusal is not None:
                raise FieldInvalid(URL_AT, f"The URL's host is refused: {refusal}", url)

    async def create(
        self,
        caller: User,
        url: str,
        events: list[str],
        description: str | None,
        idempotency: IdempotentCall[Webhook] | None = None,
    ) -> Webhook:
        """Under an `Idempotency-Key` the kept answer holds the signing secret in plain text:
        no exposure added, since the webhook's row keeps it so too (every delivery is signed
        with it)."""
        wanted = _check_events(events)
        if description is not None:
            require_clean_text(DESCRIPTION_AT, description, multiline=True)
        check_url(url, allow_http=self._allow_http, loc=URL_AT)
        if idempotency is None:
            await self._check_host(url)
        now = self._clock.now()
        async with self._uow() as uow:
            await claim_key(uow, caller.id, idempotency, now)
            if idempotency is not None:
                # After the key: the host's addresses may have changed since the first
                # request, and its retry must still get the first answer.
                await self._check_host(url)
            if len(await uow.webhooks.for_user(caller.id)) >= MAX_WEBHOOKS_PER_USER:
                raise Conflict(f"A user may have at most {MAX_WEBHOOKS_PER_USER} webhooks")
            webhook = await uow.webhooks.add(
                NewWebhook(caller.id, url, wanted, description, new_secret(), now)
            )
            await keep_answer(uow, caller.id, idempotency, webhook, now)
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

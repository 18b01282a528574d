"""Delivering webhook events: the outbox handler of `webhook` messages."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from faros.domain import outbox
from faros.domain.outbox import OutboxMessage
from faros.domain.webhooks import (
    DELIVERIES_KEPT,
    NewDelivery,
    Webhook,
    disabled_email,
    should_disable,
    signed_headers,
)
from faros.ports.clock import Clock
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from faros.ports.webhook_sender import WebhookSender

logger = logging.getLogger("faros.webhooks")


class WebhookFailed(Exception):
    """A delivery attempt failed; the outbox retries it later."""


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

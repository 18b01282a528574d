"""Webhooks and their delivery attempts in memory."""

from __future__ import annotations

from dataclasses import replace

from faros.adapters.memory.store import Transaction, utc, valid_id
from faros.domain.webhooks import Delivery, NewDelivery, NewWebhook, Webhook


def _copy(webhook: Webhook) -> Webhook:
    return replace(webhook, events=list(webhook.events))


class MemoryWebhookRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._db = tx.store

    async def add(self, webhook: NewWebhook) -> Webhook:
        stored = Webhook(
            id=self._db.next_id("webhooks"),
            user_id=webhook.user_id,
            url=webhook.url,
            events=list(webhook.events),
            description=webhook.description,
            secret=webhook.secret,
            enabled=True,
            created_at=utc(webhook.created_at),
        )
        self._tx.put(self._db.webhooks, stored.id, stored)
        return _copy(stored)

    async def get(self, webhook_id: int, *, for_update: bool = False) -> Webhook | None:
        found = self._db.webhooks.get(webhook_id) if valid_id(webhook_id) else None
        return None if found is None else _copy(found)

    async def for_user(self, user_id: int) -> list[Webhook]:
        mine = (hook for hook in self._db.webhooks.values() if hook.user_id == user_id)
        return [_copy(hook) for hook in sorted(mine, key=lambda hook: hook.id)]

    async def update(self, webhook: Webhook) -> None:
        current = self._db.webhooks.get(webhook.id)
        if current is None:
            return
        changed = replace(
            webhook,
            user_id=current.user_id,
            secret=current.secret,
            created_at=current.created_at,
            events=list(webhook.events),
            updated_at=None if webhook.updated_at is None else utc(webhook.updated_at),
            failing_since=None if webhook.failing_since is None else utc(webhook.failing_since),
        )
        self._tx.put(self._db.webhooks, webhook.id, changed)

    async def delete(self, webhook_id: int) -> None:
        for delivery in list(self._db.webhook_deliveries.values()):
            if delivery.webhook_id == webhook_id:
                self._tx.remove(self._db.webhook_deliveries, delivery.id)
        self._tx.remove(self._db.webhooks, webhook_id)

    async def for_event(self, task_id: int, owner_id: int, event_type: str) -> list[Webhook]:
        if not self._db.webhooks:  # every write asks; most stores have no webhook at all
            return []
        users = {owner_id}
        users.update(
            row.share.shared_with_user_id
            for row in self._db.shares.values()
            if row.share.task_id == task_id
        )
        return [
            _copy(hook)
            for hook in sorted(self._db.webhooks.values(), key=lambda hook: hook.id)
            if hook.enabled and hook.user_id in users and event_type in hook.events
        ]

    async def add_delivery(self, delivery: NewDelivery) -> Delivery:
        stored = Delivery(
            id=self._db.next_id("webhook_deliveries"),
            webhook_id=delivery.webhook_id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            body=delivery.body,
            attempt=delivery.attempt,
            status=delivery.status,
            response_code=delivery.response_code,
            duration_ms=delivery.duration_ms,
            error=delivery.error,
            created_at=utc(delivery.created_at),
        )
        self._tx.put(self._db.webhook_deliveries, stored.id, stored)
        return replace(stored)

    async def deliveries(self, webhook_id: int, limit: int) -> list[Delivery]:
        mine = [d for d in self._db.webhook_deliveries.values() if d.webhook_id == webhook_id]
        mine.sort(key=lambda delivery: delivery.id, reverse=True)
        return [replace(delivery) for delivery in mine[: max(limit, 0)]]

    async def prune_deliveries(self, webhook_id: int, keep: int) -> None:
        mine = sorted(
            (d.id for d in self._db.webhook_deliveries.values() if d.webhook_id == webhook_id),
            reverse=True,
        )
        for delivery_id in mine[max(keep, 0) :]:
            self._tx.remove(self._db.webhook_deliveries, delivery_id)

    async def get_delivery(self, webhook_id: int, delivery_id: int) -> Delivery | None:
        found = self._db.webhook_deliveries.get(delivery_id) if valid_id(delivery_id) else None
        if found is None or found.webhook_id != webhook_id:
            return None
        return replace(found)

from __future__ import annotations

from typing import Protocol

from faros.domain.webhooks import Delivery, NewDelivery, NewWebhook, Webhook


class WebhookRepository(Protocol):
    async def add(self, webhook: NewWebhook) -> Webhook:
        """Store an enabled webhook with no failures."""
        ...

    async def get(self, webhook_id: int, *, for_update: bool = False) -> Webhook | None: ...

    async def for_user(self, user_id: int) -> list[Webhook]:
        """The user's webhooks, oldest first."""
        ...

    async def update(self, webhook: Webhook) -> None:
        """Write every field but the id, owner, secret and creation time."""
        ...

    async def delete(self, webhook_id: int) -> None:
        """The webhook and its deliveries."""
        ...

    async def for_event(self, task_id: int, owner_id: int, event_type: str) -> list[Webhook]:
        """The enabled webhooks subscribed to `event_type` of the task's owner and of the users
        the task is shared with now, by id."""
        ...

    async def add_delivery(self, delivery: NewDelivery) -> Delivery: ...

    async def deliveries(self, webhook_id: int, limit: int) -> list[Delivery]:
        """The webhook's latest `limit` delivery attempts, newest first."""
        ...

    async def prune_deliveries(self, webhook_id: int, keep: int) -> None:
        """Forget all but the webhook's latest `keep` delivery attempts."""
        ...

    async def get_delivery(self, webhook_id: int, delivery_id: int) -> Delivery | None: ...

"""WebhookRepository: webhooks, who an event reaches, delivery attempts."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from faros.domain.webhooks import NewDelivery, NewWebhook
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .builders import NOW, add_task, add_user, share


def _new(
    user_id: int, events: list[str] | None = None, url: str = "https://x.example/h"
) -> NewWebhook:
    return NewWebhook(
        user_id, url, events or ["task.created", "task.updated"], "desc", "whsec_AAAA", NOW
    )


def _attempt(webhook_id: int, attempt: int = 1, status: str = "failed") -> NewDelivery:
    return NewDelivery(
        webhook_id=webhook_id,
        event_id="msg_1",
        event_type="task.updated",
        body='{"id":"msg_1"}',
        attempt=attempt,
        status="failed" if status == "failed" else "succeeded",
        response_code=503 if status == "failed" else 200,
        duration_ms=12,
        error="the receiver answered HTTP 503" if status == "failed" else None,
        created_at=NOW + timedelta(seconds=attempt),
    )


async def test_add_get_list_update_delete(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        alice, bob = await add_user(uow), await add_user(uow)
        first = await uow.webhooks.add(_new(alice.id))
        second = await uow.webhooks.add(_new(alice.id, ["file.uploaded"]))
        await uow.webhooks.add(_new(bob.id))
        assert first.enabled is True
        assert first.consecutive_failures == 0
        assert first.failing_since is None
        assert first.created_at == NOW
        assert await uow.webhooks.get(first.id) == first
        assert [hook.id for hook in await uow.webhooks.for_user(alice.id)] == [first.id, second.id]

        changed = replace(
            first,
            url="https://y.example/h",
            events=["share.created"],
            description=None,
            enabled=False,
            updated_at=NOW + timedelta(minutes=1),
            consecutive_failures=3,
            failing_since=NOW,
            disabled_reason="why",
        )
        await uow.webhooks.update(changed)
        assert await uow.webhooks.get(first.id) == changed

        await uow.webhooks.delete(first.id)
        assert await uow.webhooks.get(first.id) is None
        assert [hook.id for hook in await uow.webhooks.for_user(alice.id)] == [second.id]
        assert await uow.webhooks.get(2**31) is None


async def test_update_never_changes_owner_or_secret(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        alice, bob = await add_user(uow), await add_user(uow)
        hook = await uow.webhooks.add(_new(alice.id))
        await uow.webhooks.update(replace(hook, user_id=bob.id, secret="whsec_BBBB"))
        again = await uow.webhooks.get(hook.id)
        assert again is not None
        assert (again.user_id, again.secret) == (alice.id, "whsec_AAAA")


async def _ids_for(uow: UnitOfWork, task_id: int, owner_id: int, event: str) -> list[int]:
    return [hook.id for hook in await uow.webhooks.for_event(task_id, owner_id, event)]


async def test_for_event_reaches_owner_and_current_sharees_only(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner, friend, stranger = await add_user(uow), await add_user(uow), await add_user(uow)
        task = await add_task(uow, owner)
        mine = await uow.webhooks.add(_new(owner.id))
        theirs = await uow.webhooks.add(_new(friend.id))
        await uow.webhooks.add(_new(stranger.id))
        other_event = await uow.webhooks.add(_new(owner.id, ["comment.created"]))
        disabled = await uow.webhooks.add(_new(owner.id))
        await uow.webhooks.update(replace(disabled, enabled=False))

        assert await _ids_for(uow, task.id, owner.id, "task.updated") == [mine.id]
        granted = await share(uow, task, friend)
        assert await _ids_for(uow, task.id, owner.id, "task.updated") == [mine.id, theirs.id]
        assert await _ids_for(uow, task.id, owner.id, "comment.created") == [other_event.id]
        await uow.shares.delete(granted.id)
        assert await _ids_for(uow, task.id, owner.id, "task.updated") == [mine.id]


async def test_deliveries_newest_first_limited_and_per_webhook(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        alice = await add_user(uow)
        hook, other = await uow.webhooks.add(_new(alice.id)), await uow.webhooks.add(_new(alice.id))
        made = [await uow.webhooks.add_delivery(_attempt(hook.id, n)) for n in (1, 2, 3)]
        ok = await uow.webhooks.add_delivery(_attempt(hook.id, 4, "succeeded"))
        assert ok.status == "succeeded"
        assert ok.response_code == 200
        assert ok.error is None
        assert made[0].created_at == NOW + timedelta(seconds=1)
        listed = await uow.webhooks.deliveries(hook.id, 3)
        assert [d.id for d in listed] == [ok.id, made[2].id, made[1].id]
        assert listed[1] == made[2]
        assert await uow.webhooks.deliveries(other.id, 100) == []
        assert await uow.webhooks.get_delivery(hook.id, made[0].id) == made[0]
        assert await uow.webhooks.get_delivery(other.id, made[0].id) is None
        await uow.webhooks.delete(hook.id)
        assert await uow.webhooks.get_delivery(hook.id, made[0].id) is None


async def test_rollback_forgets_webhooks(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        alice = await add_user(uow)
        await uow.commit()
    async with uow_factory() as uow:
        hook = await uow.webhooks.add(_new(alice.id))
    async with uow_factory() as uow:
        assert await uow.webhooks.get(hook.id) is None


async def test_prune_keeps_the_latest_deliveries_of_that_webhook(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        alice = await add_user(uow)
        hook, other = await uow.webhooks.add(_new(alice.id)), await uow.webhooks.add(_new(alice.id))
        made = [await uow.webhooks.add_delivery(_attempt(hook.id, n)) for n in range(1, 6)]
        theirs = await uow.webhooks.add_delivery(_attempt(other.id))
        await uow.webhooks.prune_deliveries(hook.id, 2)
        assert [d.id for d in await uow.webhooks.deliveries(hook.id, 100)] == [
            made[4].id,
            made[3].id,
        ]
        assert await uow.webhooks.deliveries(other.id, 100) == [theirs]
        await uow.webhooks.prune_deliveries(hook.id, 5)
        assert len(await uow.webhooks.deliveries(hook.id, 100)) == 2
        await uow.webhooks.prune_deliveries(hook.id, 0)
        assert await uow.webhooks.deliveries(hook.id, 100) == []

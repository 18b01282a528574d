"""NotificationService: preferences, e-mail verification and due-soon reminders (D15)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from faros.domain.errors import Invalid
from faros.domain.tasks import TaskChanges

from .conftest import World


async def _link_token(world: World) -> str:
    [message] = [m for m in await world.outbox() if m.kind == "send_email"]
    found = re.search(r"token=([A-Za-z0-9_\-]+)", message.payload["text"])
    assert found is not None
    return found.group(1)


async def test_preferences_start_with_the_defaults(world: World) -> None:
    user = await world.user()
    preferences = await world.notifications.preferences(user)
    assert (preferences.email_enabled, preferences.task_completed, preferences.updated_at) == (
        True,
        False,
        None,
    )


async def test_only_the_named_flags_are_settable(world: World) -> None:
    user = await world.user()
    unchanged = await world.notifications.update_preferences(
        user,
        {"email_enabled": True, "email_verified": True, "user_id": 5},  # type: ignore[dict-item]
    )
    assert (unchanged.email_verified, unchanged.user_id, unchanged.updated_at) == (
        False,
        user.id,
        None,
    )
    world.clock.advance(5)
    changed = await world.notifications.update_preferences(user, {"task_completed": True})
    assert (changed.task_completed, changed.updated_at) == (True, world.clock.now())
    assert await world.notifications.preferences(user) == changed


async def test_verification_marks_the_user_and_the_preferences(world: World) -> None:
    user = await world.user()
    await world.notifications.send_verification(user)
    token = await _link_token(world)
    assert await world.notifications.verify_email(token) == user.username
    assert (await world.notifications.preferences(user)).email_verified is True
    async with world.uow() as uow:
        stored = await uow.users.get(user.id)
    assert stored is not None
    assert (stored.email_verified, stored.verification_code_hash) == (True, None)
    with pytest.raises(Invalid, match=r"^Invalid or expired verification token$"):
        await world.notifications.verify_email(token)  # single use


async def test_an_expired_verification_link_is_refused(world: World) -> None:
    user = await world.user()
    await world.notifications.send_verification(user)
    token = await _link_token(world)
    world.clock.advance(timedelta(hours=24, seconds=1))
    with pytest.raises(Invalid, match=r"^Verification link has expired"):
        await world.notifications.verify_email(token)


async def test_due_soon_reminders_go_to_owner_and_editors_once_per_due_date(
    world: World,
) -> None:
    owner, editor, viewer = [await world.user(notify=True) for _ in range(3)]
    muted = await world.user(notify=True, task_due_soon=False)
    today = world.clock.today()
    task = await world.task(owner, "Soon", due_date=today + timedelta(days=1))
    await world.sharing.share(owner, task.id, editor.username, "edit")
    await world.sharing.share(owner, task.id, viewer.username, "view")
    await world.sharing.share(owner, task.id, muted.username, "edit")
    await world.task(owner, "Later", due_date=today + timedelta(days=2))
    await world.task(owner, "Done", due_date=today, completed=True)
    shared_emails = len(await world.emails())

    assert await world.notifications.queue_due_soon_reminders() == 2
    assert await world.notifications.queue_due_soon_reminders() == 0
    due = (await world.emails())[shared_emails:]
    assert sorted(due) == sorted(
        [(owner.email, "Task Due Soon: Soon"), (editor.email, "Task Due Soon: Soon")]
    )
    # Moving the due date re-arms the reminder.
    await world.tasks.update(owner, task.id, TaskChanges({"due_date": today}))
    assert await world.notifications.queue_due_soon_reminders() == 2

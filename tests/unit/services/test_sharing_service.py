"""SharingService: owner-only management, its error order and side effects."""

from __future__ import annotations

import pytest

from faros.domain.errors import Conflict, Invalid, NotFound, TaskAccessDenied, TaskNotFound

from .conftest import World

MISSING = 999_999


async def test_share_checks_task_then_owner_then_user_then_self_then_duplicate(
    world: World,
) -> None:
    owner, editor, friend = await world.user(), await world.user(), await world.user()
    task = await world.shared_task(owner, editor, "edit")
    with pytest.raises(TaskNotFound):
        await world.sharing.share(editor, MISSING, "nobody", "view")
    with pytest.raises(TaskAccessDenied):
        await world.sharing.share(editor, task.id, "nobody", "view")
    with pytest.raises(NotFound, match=r"^User 'nobody' not found$"):
        await world.sharing.share(owner, task.id, "nobody", "view")
    with pytest.raises(Invalid, match=r"^Cannot share task with yourself$"):
        await world.sharing.share(owner, task.id, owner.username, "view")
    with pytest.raises(Conflict, match=r"^Task already shared with this user$"):
        await world.sharing.share(owner, task.id, editor.username, "view")
    shared = await world.sharing.share(owner, task.id, friend.username, "view")
    assert (shared.shared_with_user_id, shared.shared_with_username, shared.permission) == (
        friend.id,
        friend.username,
        "view",
    )


async def test_sharing_logs_mails_the_recipient_and_drops_the_owners_stats(
    world: World,
) -> None:
    owner, friend = await world.user(), await world.user(notify=True)
    task = await world.task(owner, "Plan")
    await world.prime_stats(owner)
    await world.sharing.share(owner, task.id, friend.username, "edit")
    log = (await world.timeline(task.id))[-1]
    assert (log.action, log.user_id, log.details) == (
        "shared",
        owner.id,
        {
            "task_title": "Plan",
            "shared_with_user_id": friend.id,
            "shared_with_username": friend.username,
            "permission": "edit",
        },
    )
    assert await world.emails() == [(friend.email, "Task Shared: Plan")]
    assert not await world.stats_cached(owner)


async def test_no_share_email_to_an_unverified_address(world: World) -> None:
    owner, friend = await world.user(), await world.user(notify=False)
    task = await world.task(owner)
    await world.sharing.share(owner, task.id, friend.username, "view")
    assert await world.emails() == []


async def test_only_the_owner_lists_shares(world: World) -> None:
    owner, editor = await world.user(), await world.user()
    task = await world.shared_task(owner, editor, "edit")
    assert [s.shared_with_username for s in await world.sharing.shares(owner, task.id)] == [
        editor.username
    ]
    with pytest.raises(TaskAccessDenied):
        await world.sharing.shares(editor, task.id)


async def test_change_permission_needs_a_known_user_with_a_share(world: World) -> None:
    owner, guest, loner = await world.user(), await world.user(), await world.user()
    task = await world.shared_task(owner, guest, "view")
    with pytest.raises(NotFound, match=r"^User 'ghost' not found$"):
        await world.sharing.change_permission(owner, task.id, "ghost", "edit")
    with pytest.raises(NotFound, match=f"^Task is not shared with '{loner.username}'$"):
        await world.sharing.change_permission(owner, task.id, loner.username, "edit")
    changed = await world.sharing.change_permission(owner, task.id, guest.username, "edit")
    assert changed.permission == "edit"
    # The guest may now edit; nothing was logged for the permission change.
    await world.tasks.add_tags(guest, task.id, ["x"])
    assert [e.action for e in await world.timeline(task.id)] == ["created", "shared", "updated"]


async def test_unshare_removes_access_and_logs_it(world: World) -> None:
    owner, guest = await world.user(), await world.user()
    task = await world.shared_task(owner, guest, "edit", "Plan")
    with pytest.raises(NotFound, match=r"^Task is not shared with user 'ghost'$"):
        await world.sharing.unshare(owner, task.id, "ghost")
    with pytest.raises(TaskAccessDenied):
        await world.sharing.unshare(guest, task.id, guest.username)
    await world.sharing.unshare(owner, task.id, guest.username)
    with pytest.raises(TaskAccessDenied):
        await world.tasks.get(guest, task.id)
    log = (await world.timeline(task.id))[-1]
    assert (log.action, log.details) == (
        "unshared",
        {"task_title": "Plan", "unshared_user_id": guest.id, "unshared_username": guest.username},
    )
    with pytest.raises(NotFound, match=f"^Task is not shared with user '{guest.username}'$"):
        await world.sharing.unshare(owner, task.id, guest.username)

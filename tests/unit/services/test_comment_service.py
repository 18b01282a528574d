"""CommentService: who may comment, edit and delete, and the e-mail to the task owner."""

from __future__ import annotations

import pytest

from faros.domain.errors import Forbidden, NotFound, TaskAccessDenied, TaskNotFound

from .conftest import World

MISSING = 999_999


async def test_anyone_with_view_access_may_comment(world: World) -> None:
    owner, viewer, stranger = await world.user(), await world.user(), await world.user()
    task = await world.shared_task(owner, viewer, "view", "Plan")
    comment = await world.comments.add(viewer, task.id, "  as typed  ")
    assert (comment.content, comment.username, comment.updated_at) == (
        "  as typed  ",
        viewer.username,
        None,
    )
    with pytest.raises(TaskAccessDenied):
        await world.comments.add(stranger, task.id, "hi")
    with pytest.raises(TaskNotFound):
        await world.comments.add(owner, MISSING, "hi")
    [listed] = await world.comments.for_task(owner, task.id)
    assert (listed.id, listed.username) == (comment.id, viewer.username)
    created = (await world.timeline(task.id))[-1]
    assert (created.resource_type, created.action, created.resource_id) == (
        "comment",
        "created",
        comment.id,
    )
    assert created.details == {
        "task_id": task.id,
        "task_title": "Plan",
        "content_preview": "  as typed  ",
    }


async def test_a_comment_by_someone_else_emails_the_owner_when_allowed(world: World) -> None:
    owner, guest = await world.user(notify=True), await world.user(notify=True)
    task = await world.shared_task(owner, guest, "view", "Plan")
    await world.comments.add(guest, task.id, "from the guest")
    await world.comments.add(owner, task.id, "from the owner")  # no e-mail to oneself
    assert [e for e in await world.emails() if e[1].startswith("New Comment")] == [
        (owner.email, "New Comment: Plan")
    ]


async def test_no_comment_email_when_the_owner_turned_it_off(world: World) -> None:
    owner = await world.user(notify=True, comment_on_my_task=False)
    guest = await world.user()
    task = await world.shared_task(owner, guest, "edit")
    await world.comments.add(guest, task.id, "hello")
    assert [s for _, s in await world.emails() if s.startswith("New Comment")] == []


async def test_only_the_author_may_edit_and_the_task_access_is_checked_first(
    world: World,
) -> None:
    owner, author, stranger = await world.user(), await world.user(), await world.user()
    task = await world.shared_task(owner, author, "view")
    comment = await world.comments.add(author, task.id, "first")
    with pytest.raises(NotFound, match=r"^Comment not found$"):
        await world.comments.edit(author, MISSING, "x")
    with pytest.raises(TaskAccessDenied):
        await world.comments.edit(stranger, comment.id, "x")
    with pytest.raises(Forbidden) as refused:
        await world.comments.edit(owner, comment.id, "x")
    assert not isinstance(refused.value, TaskAccessDenied)
    assert refused.value.message == (
        f"User {owner.id} is not authorized to access comment_id={comment.id}"
    )
    world.clock.advance(30)
    edited = await world.comments.edit(author, comment.id, "second")
    assert (edited.content, edited.updated_at) == ("second", world.clock.now())
    [stored] = await world.comments.for_task(owner, task.id)
    assert (stored.content, stored.updated_at) == ("second", world.clock.now())
    log = (await world.timeline(task.id))[-1]
    assert (log.action, log.resource_type, log.details) == (
        "updated",
        "comment",
        {"task_id": task.id, "task_title": "Task", "old_content": "first", "new_content": "second"},
    )


async def test_the_author_or_the_task_owner_may_delete(world: World) -> None:
    owner, author, other = await world.user(), await world.user(), await world.user()
    task = await world.task(owner)
    for guest in (author, other):
        await world.sharing.share(owner, task.id, guest.username, "edit")
    by_author = await world.comments.add(author, task.id, "one")
    by_author_too = await world.comments.add(author, task.id, "two")
    stranger = await world.user()
    with pytest.raises(TaskAccessDenied):
        await world.comments.delete(stranger, by_author.id)
    with pytest.raises(Forbidden, match=f"^User {other.id} is not authorized"):
        await world.comments.delete(other, by_author.id)
    await world.comments.delete(author, by_author.id)
    await world.prime_stats(owner, author)
    await world.comments.delete(owner, by_author_too.id)
    assert await world.comments.for_task(owner, task.id) == []
    with pytest.raises(NotFound, match=r"^Comment not found$"):
        await world.comments.delete(owner, by_author.id)
    # The author's comments_posted changed, whoever deleted the comment (D17).
    assert not await world.stats_cached(author)
    assert not await world.stats_cached(owner)
    deleted = [e for e in await world.timeline(task.id) if e.resource_type == "comment"]
    assert [(e.action, e.user_id) for e in deleted] == [
        ("created", author.id),
        ("created", author.id),
        ("deleted", author.id),
        ("deleted", owner.id),
    ]

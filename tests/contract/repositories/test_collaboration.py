"""ShareRepository and CommentRepository."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from faros.domain.comments import NewComment
from faros.domain.errors import Conflict
from faros.domain.sharing import NewShare, Share, SharePermission
from faros.ports.unit_of_work import UnitOfWorkFactory

from .builders import NOW, add_task, add_user, comment, comments_of, share

OUT_OF_RANGE_IDS = [0, -1, 2**31, 2**63]

# --- shares ------------------------------------------------------------------------------------


async def test_add_returns_the_share_with_the_recipients_name(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner, friend = await add_user(uow), await add_user(uow)
        task = await add_task(uow, owner)
        created = await uow.shares.add(NewShare(task.id, friend.id, "edit", NOW, owner.id))
        assert created == Share(
            id=created.id,
            task_id=task.id,
            shared_with_user_id=friend.id,
            shared_with_username=friend.username,
            permission="edit",
            shared_at=NOW,
            shared_by_user_id=owner.id,
        )
        assert await uow.shares.get(task.id, friend.id) == created
        assert await uow.shares.get(task.id, owner.id) is None


@pytest.mark.parametrize("second", ["view", "edit"])
async def test_sharing_twice_with_one_user_conflicts(
    uow_factory: UnitOfWorkFactory, second: SharePermission
) -> None:
    async with uow_factory() as uow:
        owner, friend = await add_user(uow), await add_user(uow)
        task = await add_task(uow, owner)
        await share(uow, task, friend, "view")
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(Conflict) as caught:
            await uow.shares.add(NewShare(task.id, friend.id, second, NOW, owner.id))
        # The refusal does not break the unit of work (D23 answers 409 from inside it).
        assert len(await uow.shares.for_task(task.id)) == 1
    assert caught.value.message == "Task already shared with this user"
    async with uow_factory() as uow:
        assert [s.permission for s in await uow.shares.for_task(task.id)] == ["view"]


async def test_for_task_lists_the_tasks_shares_in_id_order(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner, ann, bob = [await add_user(uow) for _ in range(3)]
        task, other = await add_task(uow, owner), await add_task(uow, owner)
        to_bob = await share(uow, task, bob, "edit", at=NOW)
        to_ann = await share(uow, task, ann, "view", at=NOW - timedelta(days=1))
        await share(uow, other, ann)
        assert await uow.shares.for_task(task.id) == [to_bob, to_ann]


async def test_set_permission_changes_only_the_permission(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner, friend = await add_user(uow), await add_user(uow)
        task = await add_task(uow, owner)
        created = await share(uow, task, friend, "view")
        await uow.shares.set_permission(created.id, "edit")
        assert await uow.shares.get(task.id, friend.id) == replace(created, permission="edit")


async def test_a_deleted_share_is_gone_and_can_be_made_again(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner, friend, other = [await add_user(uow) for _ in range(3)]
        task = await add_task(uow, owner)
        created = await share(uow, task, friend)
        kept = await share(uow, task, other)
        await uow.shares.delete(created.id)
        assert await uow.shares.get(task.id, friend.id) is None
        assert await uow.shares.for_task(task.id) == [kept]
        again = await share(uow, task, friend, "edit")
        assert again.id != created.id
        assert await uow.shares.get(task.id, friend.id) == again


async def test_returned_shares_are_copies(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner, friend = await add_user(uow), await add_user(uow)
        task = await add_task(uow, owner)
        created = await share(uow, task, friend, "view")
        created.permission = "edit"
        found = await uow.shares.get(task.id, friend.id)
        assert found is not None
        assert found.permission == "view"


# --- comments ----------------------------------------------------------------------------------


async def test_add_and_get_a_comment_with_its_authors_name(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner, author = await add_user(uow), await add_user(uow)
        task = await add_task(uow, owner)
        created = await uow.comments.add(NewComment(task.id, author.id, "  spaced  ", NOW))
        assert created.id > 0
        assert (created.task_id, created.user_id, created.content) == (
            task.id,
            author.id,
            "  spaced  ",
        )
        assert (created.created_at, created.updated_at) == (NOW, None)
        assert created.username == author.username
        assert await uow.comments.get(created.id) == created
        for comment_id in OUT_OF_RANGE_IDS:
            assert await uow.comments.get(comment_id) is None


async def test_for_task_is_oldest_first_with_id_as_tie_breaker(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner, ann, bob = [await add_user(uow) for _ in range(3)]
        task, other = await add_task(uow, owner), await add_task(uow, owner)
        late = await comment(uow, task, ann, "late", at=NOW + timedelta(minutes=5))
        tie_one = await comment(uow, task, bob, "tie one", at=NOW)
        tie_two = await comment(uow, task, ann, "tie two", at=NOW)
        await comment(uow, other, ann, "elsewhere")
        found = await comments_of(uow, task)
        assert [(c.id, c.username) for c in found] == [
            (tie_one.id, bob.username),
            (tie_two.id, ann.username),
            (late.id, ann.username),
        ]


async def test_update_writes_content_and_edit_time(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner)
        created = await comment(uow, task, owner, "draft")
        edited = replace(created, content="final", updated_at=NOW + timedelta(hours=1))
        await uow.comments.update(edited)
        assert await uow.comments.get(created.id) == replace(edited, username=owner.username)


async def test_delete_removes_only_that_comment(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner)
        doomed = await comment(uow, task, owner, "doomed")
        kept = await comment(uow, task, owner, "kept")
        await uow.comments.delete(doomed.id)
        assert await uow.comments.get(doomed.id) is None
        assert [c.id for c in await comments_of(uow, task)] == [kept.id]


async def test_returned_comments_are_copies(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner)
        created = await comment(uow, task, owner, "original")
        created.content = "mutated"
        found = await uow.comments.get(created.id)
        assert found is not None
        found.content = "mutated again"
        assert [c.content for c in await comments_of(uow, task)] == ["original"]

"""UnitOfWork: what is committed stays, everything else is rolled back."""

from __future__ import annotations

from dataclasses import replace

import pytest

from faros.ports.unit_of_work import UnitOfWorkFactory

from .builders import NOW, add_task, add_user, comment, share, unique


async def test_committed_changes_are_seen_by_later_units_of_work(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        user = await add_user(uow)
        task = await add_task(uow, user, "kept")
        await uow.preferences.get_or_create(user.id, NOW)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.users.get(user.id) == user
        found = await uow.tasks.get_with_share(task.id, user.id)
        assert found is not None
        assert found.task == task


async def test_changes_are_visible_inside_the_unit_of_work_before_commit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        user = await add_user(uow)
        assert await uow.users.by_username(user.username) == user


async def test_leaving_without_commit_discards_everything(uow_factory: UnitOfWorkFactory) -> None:
    name = unique()
    async with uow_factory() as uow:
        user = await add_user(uow, name)
        task = await add_task(uow, user)
    async with uow_factory() as uow:
        assert await uow.users.by_username(name) is None
        assert await uow.users.get(user.id) is None
        assert await uow.tasks.get_with_share(task.id, user.id) is None


async def test_an_exception_discards_everything(uow_factory: UnitOfWorkFactory) -> None:
    name = unique()

    async def fail_midway() -> None:
        async with uow_factory() as uow:
            await add_user(uow, name)
            raise LookupError("boom")

    with pytest.raises(LookupError):
        await fail_midway()
    async with uow_factory() as uow:
        assert await uow.users.by_username(name) is None


async def test_rollback_restores_updated_and_deleted_rows(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner, friend = await add_user(uow), await add_user(uow)
        task = await add_task(uow, owner, "original", tags=["a"])
        note = await comment(uow, task, friend)
        granted = await share(uow, task, friend, "view")
        await uow.commit()

    async with uow_factory() as uow:
        await uow.tasks.update(replace(task, title="changed", tags=[]))
        await uow.shares.set_permission(granted.id, "edit")
        await uow.users.update(replace(owner, token_version=5))
        await uow.tasks.delete(task.id)
        # no commit

    async with uow_factory() as uow:
        found = await uow.tasks.get_with_share(task.id, friend.id)
        assert found is not None
        assert (found.task.title, found.task.tags, found.share) == ("original", ["a"], "view")
        assert await uow.comments.get(note.id) == replace(note, username=friend.username)
        assert await uow.shares.for_task(task.id) == [granted]
        assert await uow.users.get(owner.id) == owner


async def test_a_failed_add_leaves_the_name_free_again(uow_factory: UnitOfWorkFactory) -> None:
    # The unique username comes back with the rollback: a later unit of work may take it.
    name = unique()
    async with uow_factory() as uow:
        await add_user(uow, name)
    async with uow_factory() as uow:
        user = await add_user(uow, name)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.users.by_username(name) == user

"""TaskRepository and versions (issue 17, ETag): every read carries the stored version, an
update stores the one it is given, `touch` adds one; the same on every adapter."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from faros.domain.tasks import TaskQuery
from faros.ports.unit_of_work import UnitOfWorkFactory

from .builders import TODAY, add_task, add_user, entry, share

OUT_OF_RANGE_IDS = [0, -1, 2**31, 2**63]


async def test_a_new_task_is_at_version_1(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner)
        assert task.version == 1
        found = await uow.tasks.get_with_view(task.id, owner.id)
        assert found is not None
        assert found.task.version == 1
        assert found.view_of(found.task).version == 1


async def test_update_stores_the_version_it_is_given(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner, "old")
        await uow.tasks.update(replace(task, title="new", version=2), entry(owner, task.id))
        await uow.tasks.update(replace(task, title="newer", version=3))
        found = await uow.tasks.get_with_share(task.id, owner.id, for_update=True)
        assert found is not None
        assert (found.task.title, found.task.version) == ("newer", 3)


async def test_touch_adds_one_and_leaves_the_fields(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner, "same", tags=["a"])
        await uow.tasks.touch(task.id)
        await uow.tasks.touch(task.id)
        found = await uow.tasks.get_with_share(task.id, owner.id)
        assert found is not None
        assert found.task == replace(task, version=3)


async def test_touch_of_a_missing_or_impossible_task_does_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner)
        await uow.tasks.delete(task.id)
        for task_id in [task.id, *OUT_OF_RANGE_IDS]:
            await uow.tasks.touch(task_id)
        assert await uow.tasks.get_with_share(task.id, owner.id) is None


async def test_touch_is_kept_on_commit_and_undone_on_rollback(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner)
        await uow.tasks.touch(task.id)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.tasks.touch(task.id)  # never committed
    async with uow_factory() as uow:
        found = await uow.tasks.get_with_share(task.id, owner.id)
        assert found is not None
        assert found.task.version == 2
        await uow.tasks.delete(task.id)
        await uow.commit()


async def test_every_read_of_a_task_carries_its_version(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner, friend = await add_user(uow), await add_user(uow)
        task = await add_task(uow, owner, due_date=date(2030, 6, 16))
        other = await add_task(uow, owner)
        await share(uow, task, friend, "edit")
        for _ in range(4):
            await uow.tasks.touch(task.id)
        expected = {task.id: 5, other.id: 1}

        with_share = await uow.tasks.get_with_share(task.id, owner.id)
        assert with_share is not None
        assert with_share.task.version == 5
        many = await uow.tasks.get_many_with_shares([task.id, other.id], owner.id)
        assert {item.task.id: item.task.version for item in many} == expected
        views = await uow.tasks.views([item.task for item in many])
        assert {view.id: view.version for view in views} == expected
        page, _ = await uow.tasks.list_page(owner.id, TaskQuery(), TODAY)
        assert {view.id: view.version for view in page} == expected
        shared = await uow.tasks.shared_with(friend.id)
        assert [(item.task.id, item.task.version) for item in shared] == [(task.id, 5)]
        due = await uow.tasks.due_for_reminder(TODAY, date(2030, 6, 20))
        mine = [(item.task.id, item.task.version) for item in due if item.task.user_id == owner.id]
        assert mine == [(task.id, 5)]  # the database is shared: other tests' tasks may be due

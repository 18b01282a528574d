"""TaskRepository.stats (API.md §6)."""

from __future__ import annotations

from datetime import date

from faros.domain.tasks import TaskStats
from faros.ports.unit_of_work import UnitOfWorkFactory

from .builders import add_task, add_user, comment, share

TODAY = date(2030, 6, 15)


async def test_a_user_without_anything_has_zero_stats(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        user = await add_user(uow)
        assert await uow.tasks.stats(user.id, TODAY) == TaskStats(
            total=0,
            completed=0,
            incomplete=0,
            by_priority={},
            by_tag={},
            overdue=0,
            tasks_shared=0,
            comments_posted=0,
        )


async def test_stats_count_exactly_as_the_contract_says(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        me, ann, bob = [await add_user(uow) for _ in range(3)]
        overdue = await add_task(
            uow, me, priority="high", due_date=date(2030, 6, 14), tags=["work", "urgent"]
        )
        done_late = await add_task(
            uow, me, priority="high", completed=True, due_date=date(2030, 6, 1), tags=["work"]
        )
        due_today = await add_task(uow, me, priority="low", due_date=TODAY, tags=["", "work", ""])
        await add_task(uow, me, tags=["work", "work"])
        theirs = await add_task(uow, ann, priority="low", due_date=date(2030, 1, 1), tags=["x"])

        # Two of my tasks are shared (one of them twice); a share of ann's task does not count.
        await share(uow, overdue, ann)
        await share(uow, overdue, bob, "edit")
        await share(uow, due_today, ann)
        await share(uow, theirs, me)
        # My comments count wherever they are; others' comments on my tasks do not.
        await comment(uow, theirs, me)
        await comment(uow, overdue, me)
        await comment(uow, overdue, ann)
        await comment(uow, done_late, bob)

        assert await uow.tasks.stats(me.id, TODAY) == TaskStats(
            total=4,
            completed=1,
            incomplete=3,
            by_priority={"high": 2, "low": 1, "medium": 1},
            by_tag={"work": 5, "urgent": 1, "": 2},
            overdue=1,
            tasks_shared=2,
            comments_posted=2,
        )


async def test_overdue_depends_on_the_given_day(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        me = await add_user(uow)
        await add_task(uow, me, due_date=TODAY)
        assert (await uow.tasks.stats(me.id, TODAY)).overdue == 0
        assert (await uow.tasks.stats(me.id, date(2030, 6, 16))).overdue == 1


async def test_a_removed_share_no_longer_counts(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        me, ann = await add_user(uow), await add_user(uow)
        task = await add_task(uow, me)
        shared = await share(uow, task, ann)
        assert (await uow.tasks.stats(me.id, TODAY)).tasks_shared == 1
        await uow.shares.delete(shared.id)
        assert (await uow.tasks.stats(me.id, TODAY)).tasks_shared == 0

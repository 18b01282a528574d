"""Hot paths cost a fixed number of statements, whatever the number of rows (no N+1)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.domain.activity import ActivityFilter, NewActivity
from faros.domain.comments import NewComment
from faros.domain.sharing import NewShare
from faros.domain.tasks import Task, TaskQuery
from faros.domain.users import User
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .helpers import NOW, add_task, add_user, count_statements

pytestmark = pytest.mark.postgres

TODAY = date(2031, 3, 4)


async def _busy_tasks(uow: UnitOfWork, owner: User, friend: User, n: int) -> list[Task]:
    """`n` tasks of `owner`, each shared with `friend` and carrying two comments."""
    made = []
    for i in range(n):
        task = await add_task(uow, owner, f"task {i:03}")
        await uow.shares.add(NewShare(task.id, friend.id, "edit", NOW, owner.id))
        for author in (owner, friend):
            await uow.comments.add(NewComment(task.id, author.id, f"on {i}", NOW))
        await uow.activity.add(NewActivity(friend.id, "updated", "task", task.id, task.id, {}, NOW))
        made.append(task)
    return made


async def test_a_full_page_costs_two_statements(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    async with uow_factory() as uow:
        owner, friend = await add_user(uow), await add_user(uow)
        await _busy_tasks(uow, owner, friend, 100)
        with count_statements() as log:
            views, total = await uow.tasks.list_page(owner.id, TaskQuery(limit=100), TODAY)
        assert log.count <= 2, log.statements
        assert (len(views), total) == (100, 100)
        assert all(view.share_count == 1 and len(view.comments) == 2 for view in views)
        assert {c.username for c in views[0].comments} == {owner.username, friend.username}

        with count_statements() as log:
            views, total = await uow.tasks.list_page(
                owner.id, TaskQuery(sort_by="priority", sort_order="desc", skip=10, limit=20,
                                    search="task", tags=["t"]), TODAY,
            )  # fmt: skip
        assert log.count <= 2, log.statements
        assert (len(views), total) == (20, 100)


async def test_views_and_single_task_reads_cost_one_statement_each(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    async with uow_factory() as uow:
        owner, friend = await add_user(uow), await add_user(uow)
        tasks = await _busy_tasks(uow, owner, friend, 50)

        with count_statements() as log:
            views = await uow.tasks.views(tasks)
        assert log.count <= 2, log.statements
        assert [v.id for v in views] == [t.id for t in tasks]
        assert all(v.share_count == 1 and len(v.comments) == 2 for v in views)

        for for_update in (False, True):
            with count_statements() as log:
                found = await uow.tasks.get_with_share(
                    tasks[0].id, friend.id, for_update=for_update
                )
            assert log.count == 1, log.statements
            assert found is not None
            assert found.share == "edit"

            with count_statements() as log:
                viewed = await uow.tasks.get_with_view(
                    tasks[0].id, friend.id, for_update=for_update
                )
            assert log.count == 1, log.statements
            assert viewed is not None
            assert (viewed.share, viewed.share_count, len(viewed.comments)) == ("edit", 1, 2)

            with count_statements() as log:
                many = await uow.tasks.get_many_with_shares(
                    [t.id for t in tasks], friend.id, for_update=for_update
                )
            assert log.count == 1, log.statements
            assert len(many) == 50


async def test_shared_with_stats_feed_and_timeline_cost_a_fixed_number(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    async with uow_factory() as uow:
        owner, friend = await add_user(uow), await add_user(uow)
        tasks = await _busy_tasks(uow, owner, friend, 30)

        with count_statements() as log:
            shared = await uow.tasks.shared_with(friend.id)
        assert log.count <= 2, log.statements
        assert len(shared) == 30
        assert all(s.owner_username == owner.username for s in shared)

        with count_statements() as log:
            stats = await uow.tasks.stats(owner.id, TODAY)
        assert log.count == 1, log.statements
        assert (stats.total, stats.by_tag, stats.tasks_shared, stats.comments_posted) == (
            30,
            {"t": 30},
            30,
            30,
        )

        with count_statements() as log:
            feed = await uow.activity.feed(owner.id, ActivityFilter(limit=100))
        assert log.count == 1, log.statements
        assert len(feed) == 30  # the friend's edits of the owner's tasks (D14)

        with count_statements() as log:
            timeline = await uow.activity.timeline(tasks[0].id)
        assert log.count == 1, log.statements
        assert [e.username for e in timeline] == [friend.username]


async def test_an_empty_first_page_costs_one_statement(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        with count_statements() as log:
            assert await uow.tasks.list_page(owner.id, TaskQuery(), TODAY) == ([], 0)
        assert log.count == 1, log.statements


async def test_a_page_past_the_end_still_reports_the_total(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        for i in range(3):
            await add_task(uow, owner, f"t{i}")
        with count_statements() as log:
            assert await uow.tasks.list_page(owner.id, TaskQuery(skip=5), TODAY) == ([], 3)
        # count(*) OVER () has no row to ride on, so only this case counts separately.
        assert log.count == 2, log.statements


async def test_a_locked_change_reads_its_view_with_the_lock(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    async with uow_factory() as uow:
        owner, friend = await add_user(uow), await add_user(uow)
        [task] = await _busy_tasks(uow, owner, friend, 1)
        await uow.commit()
    async with uow_factory() as uow:
        with count_statements() as log:
            found = await uow.tasks.get_with_view(task.id, owner.id, for_update=True)
            assert found is not None
            changed = replace(found.task, title="changed")
            await uow.tasks.update(changed)
            view = found.view_of(changed)
        # The locked read (with comments and share count), the update; no view query.
        assert log.count == 2, log.statements
        assert (view.title, view.share_count, len(view.comments)) == ("changed", 1, 2)


async def test_an_update_and_its_activity_entry_are_one_statement(
    uow_factory: UnitOfWorkFactory, engine: AsyncEngine
) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner)
        with count_statements() as log:
            logged = NewActivity(owner.id, "updated", "task", task.id, task.id, {}, NOW)
            await uow.tasks.update(replace(task, title="changed"), logged)
        assert log.count == 1, log.statements
        assert [e.action for e in await uow.activity.timeline(task.id)] == ["updated"]

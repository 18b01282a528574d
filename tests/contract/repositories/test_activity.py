"""ActivityRepository: feed visibility (API.md §3.8 with D14), filters, order, stats, timeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from faros.domain.activity import ActivityEntry, ActivityFilter, ActivityStats
from faros.domain.users import User
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .builders import NOW, add_task, add_user, entry, share


async def _ids(uow: UnitOfWork, user: User, **criteria: Any) -> list[int]:
    return [e.id for e in await uow.activity.feed(user.id, ActivityFilter(**criteria))]


async def _added(uow: UnitOfWork, actor: User, task_id: int, **fields: Any) -> int:
    """Add an entry and return its id: the port returns nothing, but ids only grow."""
    await uow.activity.add(entry(actor, task_id, **fields))
    return max(e.id for e in await uow.activity.timeline(task_id))


async def test_an_entry_reads_back_with_its_actors_name(uow_factory: UnitOfWorkFactory) -> None:
    details = {"title": "T", "tags": ["a", ""], "due_date": None, "n": 3, "nested": {"k": [1]}}
    async with uow_factory() as uow:
        actor = await add_user(uow)
        task = await add_task(uow, actor)
        await uow.activity.add(entry(actor, task.id, action="created", details=details))
        [found] = await uow.activity.feed(actor.id, ActivityFilter())
        assert found == ActivityEntry(
            id=found.id,
            user_id=actor.id,
            action="created",
            resource_type="task",
            resource_id=task.id,
            details=details,
            created_at=NOW,
            username=actor.username,
        )
        assert await uow.activity.timeline(task.id) == [found]


async def test_the_feed_shows_exactly_what_the_user_may_see(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        me, owner, third = [await add_user(uow) for _ in range(3)]
        shared = await add_task(uow, owner, "shared with me")
        private = await add_task(uow, owner, "not shared")
        mine = await add_task(uow, me, "mine")
        await share(uow, shared, me, "view")
        await share(uow, shared, third, "edit")

        visible = [
            # 1. my own entries, whatever they are about
            await _added(uow, me, mine.id, action="created"),
            await _added(
                uow, me, private.id, action="created", resource_type="comment", resource_id=7
            ),
            # 2. what others do to a task shared with me, except creating or deleting it
            await _added(uow, owner, shared.id, action="updated"),
            await _added(uow, owner, shared.id, action="shared"),
            await _added(uow, third, shared.id, action="unshared"),
            # 3. comments and files on a task shared with me, any action
            await _added(
                uow, owner, shared.id, action="created", resource_type="comment", resource_id=11
            ),
            await _added(
                uow, third, shared.id, action="deleted", resource_type="comment", resource_id=12
            ),
            await _added(
                uow, third, shared.id, action="uploaded", resource_type="file", resource_id=13
            ),
            # 4. (D14) what others do to my own tasks, any action
            await _added(uow, third, mine.id, action="updated"),
            await _added(
                uow, owner, mine.id, action="created", resource_type="comment", resource_id=14
            ),
        ]
        hidden = [
            await _added(uow, owner, shared.id, action="created"),
            await _added(uow, owner, shared.id, action="deleted"),
            await _added(uow, owner, private.id, action="updated"),
            await _added(
                uow, owner, private.id, action="created", resource_type="comment", resource_id=15
            ),
            await _added(
                uow, third, private.id, action="uploaded", resource_type="file", resource_id=16
            ),
        ]
        # Same instant everywhere, so the feed order is by id, newest first.
        assert await _ids(uow, me, limit=100) == sorted(visible, reverse=True)
        assert not set(hidden) & set(await _ids(uow, me, limit=100))


async def test_losing_a_share_hides_that_tasks_entries(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        me, owner = await add_user(uow), await add_user(uow)
        task = await add_task(uow, owner)
        granted = await share(uow, task, me, "edit")
        mine = await _added(uow, me, task.id, action="updated")
        theirs = await _added(uow, owner, task.id, action="updated")
        assert await _ids(uow, me) == [theirs, mine]
        await uow.shares.delete(granted.id)
        assert await _ids(uow, me) == [mine]


async def test_entries_about_a_deleted_task_stay_with_their_authors(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner, friend = await add_user(uow), await add_user(uow)
        task = await add_task(uow, owner)
        await share(uow, task, friend, "edit")
        by_friend = await _added(uow, friend, task.id, action="updated")
        by_owner = await _added(uow, owner, task.id, action="deleted")
        await uow.tasks.delete(task.id)
        assert await _ids(uow, owner) == [by_owner]
        assert await _ids(uow, friend) == [by_friend]
        assert [e.id for e in await uow.activity.timeline(task.id)] == [by_friend, by_owner]


async def test_feed_filters_combine_and_dates_are_inclusive(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        me = await add_user(uow)
        task = await add_task(uow, me)
        early = await _added(uow, me, task.id, action="created", at=NOW - timedelta(hours=2))
        middle = await _added(uow, me, task.id, action="updated", at=NOW - timedelta(hours=1))
        note = await _added(
            uow, me, task.id, action="created", resource_type="comment", resource_id=5, at=NOW
        )
        late = await _added(uow, me, task.id, action="updated", at=NOW + timedelta(hours=1))

        assert await _ids(uow, me, resource_type="comment") == [note]
        assert await _ids(uow, me, resource_type="task") == [late, middle, early]
        assert await _ids(uow, me, action="created") == [note, early]
        assert await _ids(uow, me, action="created", resource_type="task") == [early]
        assert await _ids(uow, me, resource_type="nothing") == []
        assert await _ids(uow, me, start=NOW - timedelta(hours=1)) == [late, note, middle]
        assert await _ids(uow, me, end=NOW) == [note, middle, early]
        window = {"start": NOW - timedelta(hours=1), "end": NOW}
        assert await _ids(uow, me, **window) == [note, middle]
        assert await _ids(uow, me, action="updated", **window) == [middle]


async def test_feed_is_newest_first_with_id_tie_break_then_paged(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        me = await add_user(uow)
        task = await add_task(uow, me)
        newest = await _added(uow, me, task.id, at=NOW + timedelta(seconds=1))
        tie_low = await _added(uow, me, task.id, at=NOW)
        tie_high = await _added(uow, me, task.id, at=NOW)
        oldest = await _added(uow, me, task.id, at=NOW - timedelta(microseconds=1))
        order = [newest, tie_high, tie_low, oldest]
        assert await _ids(uow, me) == order
        assert await _ids(uow, me, limit=2) == order[:2]
        assert await _ids(uow, me, offset=1, limit=2) == order[1:3]
        assert await _ids(uow, me, offset=3, limit=50) == order[3:]
        assert await _ids(uow, me, offset=4) == []


async def test_stats_count_only_the_users_own_entries(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        me, other = await add_user(uow), await add_user(uow)
        assert await uow.activity.stats(me.id) == ActivityStats(0, {}, {})
        task = await add_task(uow, me)
        await _added(uow, me, task.id, action="created")
        await _added(uow, me, task.id, action="updated")
        await _added(uow, me, task.id, action="updated")
        await _added(uow, me, task.id, action="created", resource_type="comment", resource_id=1)
        await _added(uow, me, task.id, action="uploaded", resource_type="file", resource_id=2)
        await _added(uow, other, task.id, action="shared")  # visible to me, but not mine
        assert await uow.activity.stats(me.id) == ActivityStats(
            total_activities=5,
            by_action={"created": 2, "updated": 2, "uploaded": 1},
            by_resource={"task": 3, "comment": 1, "file": 1},
        )


async def test_timeline_holds_every_entry_about_the_task_oldest_first(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner, friend = await add_user(uow), await add_user(uow)
        task, other = await add_task(uow, owner), await add_task(uow, owner)
        await uow.activity.add(
            entry(
                friend,
                task.id,
                action="uploaded",
                resource_type="file",
                resource_id=9,
                at=NOW + timedelta(minutes=2),
            )
        )
        await uow.activity.add(entry(owner, task.id, action="created", at=NOW))
        await uow.activity.add(
            entry(
                friend,
                task.id,
                action="created",
                resource_type="comment",
                resource_id=8,
                at=NOW + timedelta(minutes=1),
            )
        )
        await uow.activity.add(
            entry(owner, task.id, action="updated", at=NOW + timedelta(minutes=1))
        )
        await uow.activity.add(entry(owner, other.id, action="created", at=NOW))

        timeline = await uow.activity.timeline(task.id)

        assert [(e.resource_type, e.action, e.username) for e in timeline] == [
            ("task", "created", owner.username),
            ("comment", "created", friend.username),
            ("task", "updated", owner.username),
            ("file", "uploaded", friend.username),
        ]
        assert timeline[1].id < timeline[2].id  # the tie at +1 minute goes by id
        assert [e.resource_id for e in timeline] == [task.id, 8, task.id, 9]


async def test_returned_entries_are_copies(uow_factory: UnitOfWorkFactory) -> None:
    details: dict[str, Any] = {"title": "T", "tags": ["a"]}
    async with uow_factory() as uow:
        actor = await add_user(uow)
        task = await add_task(uow, actor)
        await uow.activity.add(entry(actor, task.id, action="created", details=details))
        details["tags"].append("changed before reading")
        [first] = await uow.activity.timeline(task.id)
        assert first.details is not None
        first.details["tags"].append("changed after reading")
        [again] = await uow.activity.feed(actor.id, ActivityFilter())
        assert again.details == {"title": "T", "tags": ["a"]}

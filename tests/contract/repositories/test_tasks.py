"""TaskRepository: rows, access lookups, views, deletion, shared-with-me and reminders."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from faros.domain.files import NewStoredFile
from faros.domain.sharing import SharePermission
from faros.domain.tasks import NewTask
from faros.domain.users import User
from faros.ports.task_repository import TaskWithShare, TaskWithView
from faros.ports.unit_of_work import UnitOfWorkFactory

from .builders import NOW, add_task, add_user, comment, entry, share, unique

OUT_OF_RANGE_IDS = [0, -1, 2**31, 2**63]


async def test_add_keeps_every_field_including_odd_tags(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        draft = NewTask(
            "Write report",
            "by Friday",
            True,
            "high",
            date(2030, 7, 1),
            ["b", "a", "b", ""],
            owner.id,
            NOW,
        )
        task = await uow.tasks.add(draft)
        assert task.id > 0
        assert (task.title, task.description, task.completed, task.priority) == (
            "Write report",
            "by Friday",
            True,
            "high",
        )
        assert task.due_date == date(2030, 7, 1)
        assert task.tags == ["b", "a", "b", ""]  # order, repeats and empty strings survive
        assert (task.user_id, task.created_at) == (owner.id, NOW)
        found = await uow.tasks.get_with_share(task.id, owner.id)
        assert found == TaskWithShare(task, None)


async def test_get_with_share_reports_the_callers_share(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner, viewer, editor, stranger = [await add_user(uow) for _ in range(4)]
        task = await add_task(uow, owner)
        await share(uow, task, viewer, "view")
        await share(uow, task, editor, "edit")
        expectations: list[tuple[User, SharePermission | None]] = [
            (owner, None),
            (viewer, "view"),
            (editor, "edit"),
            (stranger, None),
        ]
        for user, expected in expectations:
            found = await uow.tasks.get_with_share(task.id, user.id, for_update=True)
            assert found == TaskWithShare(task, expected)


async def test_missing_and_out_of_range_tasks_are_not_found(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner)
        await uow.tasks.delete(task.id)
        for task_id in [task.id, *OUT_OF_RANGE_IDS]:
            assert await uow.tasks.get_with_share(task_id, owner.id) is None
        assert await uow.tasks.get_many_with_shares([task.id, *OUT_OF_RANGE_IDS], owner.id) == []


async def test_get_many_returns_existing_tasks_in_id_order_with_shares(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner, other = await add_user(uow), await add_user(uow)
        first = await add_task(uow, owner, "first")
        second = await add_task(uow, other, "second")
        third = await add_task(uow, other, "third")
        await share(uow, third, owner, "edit")
        gone = await add_task(uow, owner, "gone")
        await uow.tasks.delete(gone.id)
        found = await uow.tasks.get_many_with_shares(
            [third.id, gone.id, first.id, second.id], owner.id, for_update=True
        )
        assert found == [
            TaskWithShare(first, None),
            TaskWithShare(second, None),
            TaskWithShare(third, "edit"),
        ]
        assert await uow.tasks.get_many_with_shares([], owner.id) == []


async def test_update_writes_the_editable_fields(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(
            uow, owner, "old", description="d", due_date=date(2030, 1, 1), tags=["x"]
        )
        changed = replace(
            task,
            title="new",
            description=None,
            completed=True,
            priority="low",
            due_date=None,
            tags=["y", "z"],
        )
        await uow.tasks.update(changed)
        found = await uow.tasks.get_with_share(task.id, owner.id)
        assert found is not None
        assert found.task == changed


async def test_an_update_writes_the_entry_that_records_it(
    uow_factory: UnitOfWorkFactory,
) -> None:
    details = {"changes": {"title": {"old": "old", "new": "new"}}, "tags": ["a", ""], "n": None}
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner, "old")
        logged = entry(owner, task.id, details=details)
        await uow.tasks.update(replace(task, title="new"), logged)
        # A task that is gone takes its entry with it: nothing is logged for it.
        gone = await add_task(uow, owner, "gone")
        await uow.tasks.delete(gone.id)
        await uow.tasks.update(replace(gone, title="ghost"), entry(owner, gone.id))
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.tasks.get_with_share(task.id, owner.id)
        assert found is not None
        assert found.task.title == "new"
        [written] = await uow.activity.timeline(task.id)
        assert (written.user_id, written.action, written.resource_type) == (
            owner.id,
            "updated",
            "task",
        )
        assert (written.resource_id, written.details, written.created_at) == (
            task.id,
            details,
            NOW,
        )
        assert await uow.activity.timeline(gone.id) == []


async def test_returned_tasks_are_copies(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner, tags=["a"])
        task.tags.append("leak")
        task.title = "leak"
        found = await uow.tasks.get_with_share(task.id, owner.id)
        assert found is not None
        found.task.tags.append("leak")
        again = await uow.tasks.get_with_share(task.id, owner.id)
        assert again is not None
        assert (again.task.title, again.task.tags) == ("task", ["a"])


async def test_delete_takes_comments_shares_and_files_but_keeps_activity(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner, friend = await add_user(uow), await add_user(uow)
        doomed = await add_task(uow, owner, "doomed")
        kept = await add_task(uow, owner, "kept")
        doomed_comment = await comment(uow, doomed, friend)
        kept_comment = await comment(uow, kept, friend)
        doomed_share = await share(uow, doomed, friend)
        kept_share = await share(uow, kept, friend)
        stored = await uow.files.add(
            NewStoredFile(doomed.id, "a.txt", unique("key"), 3, "text/plain", NOW)
        )
        kept_file = await uow.files.add(
            NewStoredFile(kept.id, "b.txt", unique("key"), 3, None, NOW)
        )
        await uow.activity.add(entry(owner, doomed.id, action="created"))

        await uow.tasks.delete(doomed.id)

        assert await uow.tasks.get_with_share(doomed.id, owner.id) is None
        assert await uow.comments.get(doomed_comment.id) is None
        assert await uow.shares.get(doomed.id, friend.id) is None
        assert await uow.shares.for_task(doomed.id) == []
        assert await uow.files.get(stored.id) is None
        assert await uow.files.for_task(doomed.id) == []
        assert [e.action for e in await uow.activity.timeline(doomed.id)] == ["created"]
        # Stats no longer count what went with the task.
        stats = await uow.tasks.stats(friend.id, NOW.date())
        assert stats.comments_posted == 1
        assert (await uow.tasks.stats(owner.id, NOW.date())).tasks_shared == 1
        # The neighbour keeps everything.
        assert await uow.comments.get(kept_comment.id) is not None
        assert await uow.shares.for_task(kept.id) == [kept_share]
        assert await uow.files.for_task(kept.id) == [kept_file]
        assert doomed_share.id != kept_share.id


async def test_views_attach_named_comments_in_order_and_share_counts(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner, ann, bob = [await add_user(uow) for _ in range(3)]
        busy = await add_task(uow, owner, "busy", tags=["t"])
        quiet = await add_task(uow, owner, "quiet")
        c1 = await comment(uow, busy, ann, "first", at=NOW)
        c2 = await comment(uow, busy, bob, "second", at=NOW + timedelta(seconds=1))
        await share(uow, busy, ann)
        await share(uow, busy, bob, "edit")

        quiet_view, busy_view = await uow.tasks.views([quiet, busy])

        assert (busy_view.id, busy_view.title, busy_view.tags, busy_view.user_id) == (
            busy.id,
            "busy",
            ["t"],
            owner.id,
        )
        assert busy_view.share_count == 2
        assert [(c.id, c.content, c.username) for c in busy_view.comments] == [
            (c1.id, "first", ann.username),
            (c2.id, "second", bob.username),
        ]
        assert (quiet_view.id, quiet_view.comments, quiet_view.share_count) == (quiet.id, [], 0)
        assert await uow.tasks.views([]) == []


async def test_get_with_view_brings_the_share_comments_and_share_count(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner, ann, bob, stranger = [await add_user(uow) for _ in range(4)]
        task = await add_task(uow, owner, "busy", tags=["t"])
        quiet = await add_task(uow, owner, "quiet")
        # Added newest first: the view still lists them oldest first.
        c2 = await comment(uow, task, bob, "second", at=NOW + timedelta(seconds=1))
        c1 = await comment(uow, task, ann, "first", at=NOW)
        await share(uow, task, ann, "edit")
        await share(uow, task, bob)
        for for_update in (False, True):
            for user, permission in [(owner, None), (ann, "edit"), (bob, "view"), (stranger, None)]:
                found = await uow.tasks.get_with_view(task.id, user.id, for_update=for_update)
                assert found is not None
                assert (found.task, found.share, found.share_count) == (task, permission, 2)
                assert [(c.id, c.content, c.username) for c in found.comments] == [
                    (c1.id, "first", ann.username),
                    (c2.id, "second", bob.username),
                ]
        assert await uow.tasks.get_with_view(quiet.id, owner.id) == TaskWithView(quiet, None, [], 0)
        # What `views` would show of the task as changed in this unit of work.
        changed = replace(task, title="after")
        await uow.tasks.update(changed)
        found = await uow.tasks.get_with_view(task.id, owner.id)
        assert found is not None
        assert found.view_of(changed) == (await uow.tasks.views([changed]))[0]


async def test_get_with_view_sees_changes_made_in_the_unit_of_work(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner, ann = await add_user(uow), await add_user(uow)
        task = await add_task(uow, owner)
        before = await uow.tasks.get_with_view(task.id, owner.id)
        assert before is not None
        assert (before.comments, before.share_count) == ([], 0)
        added = await comment(uow, task, ann, "new")
        granted = await share(uow, task, ann)
        after = await uow.tasks.get_with_view(task.id, ann.id, for_update=True)
        assert after is not None
        assert ([c.id for c in after.comments], after.share, after.share_count) == (
            [added.id],
            "view",
            1,
        )
        await uow.comments.delete(added.id)
        await uow.shares.delete(granted.id)
        gone = await uow.tasks.get_with_view(task.id, ann.id)
        assert gone is not None
        assert (gone.comments, gone.share, gone.share_count) == ([], None, 0)


async def test_get_with_view_of_a_missing_task_is_none(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner)
        await uow.tasks.delete(task.id)
        for task_id in [task.id, *OUT_OF_RANGE_IDS]:
            for for_update in (False, True):
                found = await uow.tasks.get_with_view(task_id, owner.id, for_update=for_update)
                assert found is None


async def test_views_show_the_tasks_as_given(uow_factory: UnitOfWorkFactory) -> None:
    # The use cases render a task they just changed in the same transaction.
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner, "before")
        changed = replace(task, title="after")
        await uow.tasks.update(changed)
        [view] = await uow.tasks.views([changed])
        assert view.title == "after"


async def test_shared_with_lists_the_callers_shares_in_share_order(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        me, ann, bob = [await add_user(uow) for _ in range(3)]
        later = await add_task(uow, ann, "later")
        earlier = await add_task(uow, bob, "earlier")
        await add_task(uow, bob, "not shared")
        await share(uow, earlier, me, "edit")
        await share(uow, later, me, "view")
        await share(uow, later, bob, "view")
        await comment(uow, later, bob, "note")

        items = await uow.tasks.shared_with(me.id)

        assert [(i.task.title, i.permission, i.owner_username) for i in items] == [
            ("earlier", "edit", bob.username),
            ("later", "view", ann.username),
        ]
        assert items[1].task.share_count == 2
        assert [(c.content, c.username) for c in items[1].task.comments] == [("note", bob.username)]
        assert await uow.tasks.shared_with(ann.id) == []


# --- due-soon reminders ------------------------------------------------------------------------
# The query spans every user's tasks, so assertions look only at this test's tasks.


async def test_due_for_reminder_selects_open_tasks_due_in_the_window(
    uow_factory: UnitOfWorkFactory,
) -> None:
    start = date(2900, 3, 10)
    end = start + timedelta(days=1)
    async with uow_factory() as uow:
        owner, editor, other_editor, viewer = [await add_user(uow) for _ in range(4)]
        first_day = await add_task(uow, owner, "first", due_date=start)
        last_day = await add_task(uow, owner, "last", due_date=end)
        others = [
            await add_task(uow, owner, "before", due_date=start - timedelta(days=1)),
            await add_task(uow, owner, "after", due_date=end + timedelta(days=1)),
            await add_task(uow, owner, "done", due_date=start, completed=True),
            await add_task(uow, owner, "undated"),
        ]
        await share(uow, first_day, other_editor, "edit")
        await share(uow, first_day, viewer, "view")
        await share(uow, first_day, editor, "edit")
        mine = {task.id for task in [first_day, last_day, *others]}

        due = [d for d in await uow.tasks.due_for_reminder(start, end) if d.task.id in mine]

        assert [d.task for d in due] == [first_day, last_day]
        # The owner first, then the editors by user id; viewers cannot act on the task.
        assert due[0].recipient_ids == [owner.id, editor.id, other_editor.id]
        assert due[1].recipient_ids == [owner.id]


async def test_a_reminded_task_is_skipped_until_its_due_date_moves(
    uow_factory: UnitOfWorkFactory,
) -> None:
    day = date(2901, 5, 5)
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner, due_date=day)

        async def due_ids() -> set[int]:
            return {d.task.id for d in await uow.tasks.due_for_reminder(day, day + timedelta(1))}

        assert task.id in await due_ids()
        await uow.tasks.mark_reminded(task.id, day)
        assert task.id not in await due_ids()
        # Editing other fields keeps the reminder; moving the due date re-arms it.
        await uow.tasks.update(replace(task, title="renamed"))
        assert task.id not in await due_ids()
        await uow.tasks.update(replace(task, due_date=day + timedelta(days=1)))
        assert task.id in await due_ids()

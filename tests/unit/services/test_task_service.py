"""TaskService: permissions and check order, D14 activity, completion e-mails, bulk, stats."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from faros.domain.errors import (
    FieldInvalid,
    Invalid,
    NotFound,
    TagNotFound,
    TaskAccessDenied,
    TaskNotFound,
)
from faros.domain.files import NewStoredFile
from faros.domain.sharing import SharePermission
from faros.domain.tasks import MAX_TAGS, TaskChanges, TaskQuery

from .conftest import World

MISSING = 999_999


async def test_create_logs_a_snapshot_and_drops_the_creators_stats(world: World) -> None:
    owner = await world.user()
    await world.prime_stats(owner)
    task = await world.tasks.create(
        owner,
        title="Plan",
        description="d",
        priority="high",
        due_date=date(2030, 7, 1),
        tags=["a", "a"],
        completed=False,
    )
    assert (task.title, task.user_id, task.comments, task.share_count) == ("Plan", owner.id, [], 0)
    [created] = await world.timeline(task.id)
    assert (created.action, created.resource_type, created.user_id) == ("created", "task", owner.id)
    assert created.details == {
        "title": "Plan",
        "priority": "high",
        "completed": False,
        "tags": ["a", "a"],
        "due_date": "2030-07-01",
    }
    assert not await world.stats_cached(owner)


@pytest.mark.parametrize("permission", ["view", "edit"])
async def test_collaborators_may_read_but_strangers_may_not(
    world: World, permission: SharePermission
) -> None:
    owner, guest, stranger = await world.user(), await world.user(), await world.user()
    task = await world.shared_task(owner, guest, permission)
    assert (await world.tasks.get(guest, task.id)).share_count == 1
    with pytest.raises(TaskAccessDenied):
        await world.tasks.get(stranger, task.id)
    with pytest.raises(TaskNotFound):
        await world.tasks.get(owner, MISSING)


async def test_update_checks_existence_then_permission_then_content(world: World) -> None:
    owner, viewer, stranger = await world.user(), await world.user(), await world.user()
    task = await world.shared_task(owner, viewer, "view")
    empty = TaskChanges({})
    with pytest.raises(TaskNotFound):
        await world.tasks.update(stranger, MISSING, empty)
    with pytest.raises(TaskAccessDenied):
        await world.tasks.update(stranger, task.id, empty)
    with pytest.raises(TaskAccessDenied):
        await world.tasks.update(viewer, task.id, TaskChanges({"title": "x"}))
    with pytest.raises(Invalid, match="No fields provided for update"):
        await world.tasks.update(owner, task.id, empty)
    assert (await world.stored(task.id, owner)).title == "Task"


async def test_update_logs_old_and_new_values_of_every_key_sent(world: World) -> None:
    owner, editor = await world.user(), await world.user()
    task = await world.shared_task(owner, editor, "edit")
    world.clock.advance(60)
    view = await world.tasks.update(
        editor,
        task.id,
        TaskChanges({"tags": ["x"], "title": "Task", "due_date": date(2030, 7, 1)}),
    )
    assert (view.tags, view.due_date, view.share_count) == (["x"], date(2030, 7, 1), 1)
    updated = (await world.timeline(task.id))[-1]
    assert (updated.action, updated.user_id, updated.created_at) == (
        "updated",
        editor.id,
        world.clock.now(),
    )
    assert updated.details == {
        "task_title": "Task",
        "changed_fields": ["due_date", "tags"],
        "old_values": {"title": "Task", "due_date": None, "tags": []},
        "new_values": {"title": "Task", "due_date": "2030-07-01", "tags": ["x"]},
    }


async def test_an_update_that_changes_nothing_writes_no_activity(world: World) -> None:
    owner = await world.user()
    task = await world.task(owner, "Same", priority="low")
    view = await world.tasks.update(
        owner, task.id, TaskChanges({"title": "Same", "priority": "low"})
    )
    assert (view.title, view.priority) == ("Same", "low")
    assert [e.action for e in await world.timeline(task.id)] == ["created"]


async def test_a_collaborator_completing_a_task_emails_the_owner_when_allowed(
    world: World,
) -> None:
    owner = await world.user(notify=True, task_completed=True)
    editor = await world.user(notify=True, task_completed=True)
    task = await world.shared_task(owner, editor, "edit", "Report")
    await world.tasks.update(editor, task.id, TaskChanges({"completed": True}))
    # Completing it again changes nothing, so nothing more is sent.
    await world.tasks.update(editor, task.id, TaskChanges({"completed": True}))
    assert (owner.email, "Task Completed: Report") in await world.emails()
    assert [e for e in await world.emails() if e[1].startswith("Task Completed")] == [
        (owner.email, "Task Completed: Report")
    ]


@pytest.mark.parametrize(
    "owner_flags",
    [
        {"notify": True},  # task_completed is off by default
        {"notify": False, "task_completed": True},  # address not verified
        {"notify": True, "task_completed": True, "email_enabled": False},
    ],
)
async def test_no_completion_email_when_the_owner_does_not_want_it(
    world: World, owner_flags: dict[str, bool]
) -> None:
    owner, editor = await world.user(**owner_flags), await world.user()
    task = await world.shared_task(owner, editor, "edit")
    await world.tasks.update(editor, task.id, TaskChanges({"completed": True}))
    assert [s for _, s in await world.emails() if s.startswith("Task Completed")] == []


async def test_owners_completing_their_own_task_get_no_email(world: World) -> None:
    owner = await world.user(notify=True, task_completed=True)
    task = await world.task(owner)
    await world.tasks.update(owner, task.id, TaskChanges({"completed": True}))
    assert await world.emails() == []


async def test_an_edit_drops_both_the_actors_and_the_owners_stats(world: World) -> None:
    owner, editor, bystander = await world.user(), await world.user(), await world.user()
    task = await world.shared_task(owner, editor, "edit")
    await world.prime_stats(owner, editor, bystander)
    await world.tasks.update(editor, task.id, TaskChanges({"priority": "high"}))
    assert not await world.stats_cached(owner)
    assert not await world.stats_cached(editor)
    assert await world.stats_cached(bystander)


async def test_bulk_reports_missing_ids_in_request_order_and_changes_nothing(
    world: World,
) -> None:
    owner = await world.user()
    task = await world.task(owner)
    with pytest.raises(NotFound, match=r"^Tasks not found: \[999999, 999998\]$"):
        await world.tasks.bulk_update(
            owner, [MISSING, task.id, MISSING - 1, MISSING], TaskChanges({"completed": True})
        )
    assert (await world.stored(task.id, owner)).completed is False


async def test_bulk_without_fields_is_refused_before_anything_else(world: World) -> None:
    owner = await world.user()
    with pytest.raises(Invalid, match="No fields provided for update"):
        await world.tasks.bulk_update(owner, [MISSING], TaskChanges({}))


async def test_bulk_is_all_or_nothing_on_permissions(world: World) -> None:
    owner, editor = await world.user(), await world.user()
    editable = await world.shared_task(owner, editor, "edit", "editable")
    mine = await world.task(editor, "mine")
    viewable = await world.shared_task(owner, editor, "view", "viewable")
    with pytest.raises(TaskAccessDenied):
        await world.tasks.bulk_update(
            editor, [mine.id, editable.id, viewable.id], TaskChanges({"priority": "high"})
        )
    assert (await world.stored(editable.id, owner)).priority == "medium"
    assert (await world.stored(mine.id, editor)).priority == "medium"
    assert [e.action for e in await world.timeline(editable.id)] == ["created", "shared"]
    assert [e.action for e in await world.timeline(mine.id)] == ["created"]


async def test_bulk_updates_each_task_once_and_logs_only_real_changes(world: World) -> None:
    owner, editor = await world.user(notify=True, task_completed=True), await world.user()
    shared = await world.shared_task(owner, editor, "edit", "shared")
    mine = await world.task(editor, "mine", priority="high")
    views = await world.tasks.bulk_update(
        editor,
        [shared.id, mine.id, shared.id],
        TaskChanges({"priority": "high", "completed": True}),
    )
    assert sorted(v.id for v in views) == sorted([shared.id, mine.id])
    assert all(v.priority == "high" and v.completed for v in views)
    shared_log = [e.details for e in await world.timeline(shared.id) if e.action == "updated"]
    mine_log = [e.details for e in await world.timeline(mine.id) if e.action == "updated"]
    assert [d["changed_fields"] for d in shared_log if d] == [["completed", "priority"]]
    assert [d["changed_fields"] for d in mine_log if d] == [["completed"]]
    # D15: a bulk completion follows the single-update e-mail rule.
    assert (owner.email, "Task Completed: shared") in await world.emails()


async def test_tags_are_merged_and_removed_with_an_activity_entry(world: World) -> None:
    owner = await world.user()
    task = await world.task(owner, tags=["a", "b", "a"])
    view = await world.tasks.add_tags(owner, task.id, ["b", "c", "c", "d"])
    assert view.tags == ["a", "b", "a", "c", "d"]
    view = await world.tasks.remove_tag(owner, task.id, "a")
    assert view.tags == ["b", "a", "c", "d"]  # only the first occurrence goes
    with pytest.raises(TagNotFound):
        await world.tasks.remove_tag(owner, task.id, "zzz")
    await world.tasks.add_tags(owner, task.id, ["b"])  # nothing new: no entry
    updates = [e.details for e in await world.timeline(task.id) if e.action == "updated"]
    assert [(d or {})["changed_fields"] for d in updates] == [["tags"], ["tags"]]


async def test_no_path_grows_a_task_past_the_tag_cap(world: World) -> None:
    owner = await world.user()
    task = await world.task(owner, tags=[f"t{i}" for i in range(MAX_TAGS - 1)])
    assert len((await world.tasks.add_tags(owner, task.id, ["last", "t0"])).tags) == MAX_TAGS
    with pytest.raises(FieldInvalid) as refused:
        await world.tasks.add_tags(owner, task.id, ["one-too-many"])
    assert refused.value.loc == ("body",)
    more = TaskChanges({"tags": [f"n{i}" for i in range(MAX_TAGS + 1)]})
    with pytest.raises(FieldInvalid):
        await world.tasks.update(owner, task.id, more)
    with pytest.raises(FieldInvalid):
        await world.tasks.bulk_update(owner, [task.id], more)
    assert len((await world.tasks.get(owner, task.id)).tags) == MAX_TAGS
    # A task holding more than the cap from before it may still lose tags.
    fewer = TaskChanges({"tags": ["kept"]})
    assert (await world.tasks.update(owner, task.id, fewer)).tags == ["kept"]


@pytest.mark.parametrize("title", ["T\r\nBcc: x@evil", "bell\x07", "esc\x1b[0m"])
async def test_one_line_text_refuses_control_characters(world: World, title: str) -> None:
    owner = await world.user()
    task = await world.task(owner)
    with pytest.raises(FieldInvalid):
        await world.tasks.create(
            owner, title=title, description=None, priority="low", due_date=None, tags=[],
            completed=False,
        )  # fmt: skip
    with pytest.raises(FieldInvalid):
        await world.tasks.update(owner, task.id, TaskChanges({"title": title}))
    with pytest.raises(FieldInvalid):
        await world.tasks.add_tags(owner, task.id, [title])
    with pytest.raises(FieldInvalid):
        await world.comments.add(owner, task.id, "fine\n" + title.replace("\r\n", "\r"))


async def test_tag_changes_need_edit_access(world: World) -> None:
    owner, viewer = await world.user(), await world.user()
    task = await world.shared_task(owner, viewer, "view")
    with pytest.raises(TaskAccessDenied):
        await world.tasks.add_tags(viewer, task.id, ["x"])
    with pytest.raises(TaskAccessDenied):
        await world.tasks.remove_tag(viewer, task.id, "x")
    with pytest.raises(TaskNotFound):
        await world.tasks.add_tags(owner, MISSING, ["x"])


async def test_only_the_owner_deletes_and_stored_files_are_queued_for_removal(
    world: World,
) -> None:
    owner, editor = await world.user(), await world.user()
    task = await world.shared_task(owner, editor, "edit")
    async with world.uow() as uow:
        stored = NewStoredFile(task.id, "a.txt", "task_key.txt", 1, None, world.clock.now())
        await uow.files.add(stored)
        await uow.commit()
    await world.comments.add(editor, task.id, "hi")
    with pytest.raises(TaskAccessDenied):
        await world.tasks.delete(editor, task.id)
    await world.prime_stats(owner, editor)
    await world.tasks.delete(owner, task.id)
    with pytest.raises(TaskNotFound):
        await world.tasks.get(owner, task.id)
    assert [(m.kind, m.payload) for m in await world.outbox()] == [
        ("delete_blob", {"key": "task_key.txt"})
    ]
    assert (await world.timeline(task.id))[-1].action == "deleted"
    # The comment author's comments_posted changed too.
    assert not await world.stats_cached(owner)
    assert not await world.stats_cached(editor)


async def test_stats_are_cached_until_a_change_invalidates_them(world: World) -> None:
    owner = await world.user()
    await world.task(owner, due_date=date(2030, 6, 14))
    first = await world.tasks.stats(owner)
    assert (first.total, first.overdue) == (1, 1)
    world.clock.advance(timedelta(days=-2))  # no longer overdue, but the cache still says so
    assert await world.tasks.stats(owner) == first
    await world.task(owner)
    fresh = await world.tasks.stats(owner)
    assert (fresh.total, fresh.overdue) == (2, 0)


async def test_a_page_always_has_at_least_one_page(world: World) -> None:
    owner = await world.user()
    empty = await world.tasks.page(owner, TaskQuery(limit=10))
    assert (empty.tasks, empty.total, empty.page, empty.pages) == ([], 0, 1, 1)
    for n in range(3):
        await world.task(owner, f"t{n}")
    page = await world.tasks.page(owner, TaskQuery(skip=2, limit=2))
    assert ([t.title for t in page.tasks], page.total, page.page, page.pages) == (["t2"], 3, 2, 2)


async def test_shared_with_me_lists_what_others_shared(world: World) -> None:
    owner, guest = await world.user(), await world.user()
    task = await world.shared_task(owner, guest, "edit", "theirs")
    [item] = await world.tasks.shared_with_me(guest)
    assert (item.task.id, item.permission, item.owner_username) == (task.id, "edit", owner.username)
    assert await world.tasks.shared_with_me(owner) == []

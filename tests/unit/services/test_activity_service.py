"""ActivityService: the feed, counts and the task timeline with summaries (D14)."""

from __future__ import annotations

import pytest

from faros.domain.activity import ActivityFilter, ActivityStats
from faros.domain.errors import TaskAccessDenied, TaskNotFound
from faros.domain.tasks import TaskChanges

from .conftest import World


async def test_timeline_needs_view_access_and_carries_summaries(world: World) -> None:
    owner, guest, stranger = await world.user(), await world.user(), await world.user()
    task = await world.task(owner, "Plan", priority="low")
    await world.sharing.share(owner, task.id, guest.username, "edit")
    await world.tasks.update(guest, task.id, TaskChanges({"priority": "high"}))
    await world.comments.add(guest, task.id, "done soon")
    with pytest.raises(TaskAccessDenied):
        await world.activity.timeline(stranger, task.id)
    with pytest.raises(TaskNotFound):
        await world.activity.timeline(owner, 999_999)
    timeline = await world.activity.timeline(guest, task.id)
    assert [item.summary for item in timeline] == [
        f"{owner.username} created task 'Plan'",
        f"{owner.username} shared task with {guest.username} (edit)",
        f"{guest.username} changed priority from low to high",
        f"{guest.username} added a comment",
    ]


async def test_the_owner_sees_collaborators_actions_in_the_feed(world: World) -> None:
    owner, guest = await world.user(), await world.user()
    task = await world.shared_task(owner, guest, "edit")
    await world.tasks.update(guest, task.id, TaskChanges({"title": "Renamed"}))
    owner_feed = await world.activity.feed(owner, ActivityFilter())
    assert [(e.user_id, e.action) for e in owner_feed] == [
        (guest.id, "updated"),
        (owner.id, "shared"),
        (owner.id, "created"),
    ]
    # The collaborator sees the edit and the share, but not the task's creation.
    guest_feed = await world.activity.feed(guest, ActivityFilter())
    assert [e.action for e in guest_feed] == ["updated", "shared"]


async def test_stats_count_the_callers_own_actions(world: World) -> None:
    owner, guest = await world.user(), await world.user()
    task = await world.shared_task(owner, guest, "edit")
    await world.comments.add(guest, task.id, "hi")
    assert await world.activity.stats(owner) == ActivityStats(
        total_activities=2, by_action={"created": 1, "shared": 1}, by_resource={"task": 2}
    )
    assert await world.activity.stats(guest) == ActivityStats(
        total_activities=1, by_action={"created": 1}, by_resource={"comment": 1}
    )

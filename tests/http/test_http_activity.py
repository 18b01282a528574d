"""The activity log (§3.8, §4) with D14: entries, details, feed visibility, stats, timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

ENTRY_KEYS = [
    "id",
    "user_id",
    "action",
    "resource_type",
    "resource_id",
    "details",
    "created_at",
    "username",
]
TIMELINE_KEYS = [*ENTRY_KEYS, "summary"]


async def feed(api: Any, who: Any, query: str = "") -> list[dict[str, Any]]:
    response = await api.get(who, f"/activity{query}")
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    for entry in entries:
        assert list(entry) == ENTRY_KEYS
        assert entry["created_at"].endswith("Z")
    return entries


async def timeline(api: Any, who: Any, task_id: int) -> list[dict[str, Any]]:
    response = await api.get(who, f"/activity/tasks/{task_id}")
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    for entry in entries:
        assert list(entry) == TIMELINE_KEYS
    return entries


def kinds(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["resource_type"], e["action"]) for e in entries]


# --------------------------------------------------------------------------- details (§4)


async def test_task_lifecycle_details(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner, title="Plan", priority="low", tags=["a"], due_date="2030-05-06")
    (created,) = await feed(api, owner)
    assert created["user_id"] == owner.id
    assert created["username"] == owner.username
    assert (created["action"], created["resource_type"], created["resource_id"]) == (
        "created",
        "task",
        task["id"],
    )
    assert created["details"] == {
        "title": "Plan",
        "priority": "low",
        "completed": False,
        "tags": ["a"],
        "due_date": "2030-05-06",
    }
    response = await api.client.patch(
        f"/tasks/{task['id']}",
        json={"tags": ["a", "b"], "priority": "high", "title": "Plan", "due_date": None},
        headers=owner.auth,
    )
    assert response.status_code == 200
    updated = (await feed(api, owner))[0]
    assert (updated["action"], updated["resource_type"], updated["resource_id"]) == (
        "updated",
        "task",
        task["id"],
    )
    details = updated["details"]
    assert details["task_title"] == "Plan"
    # Changed keys in the fixed order title, description, completed, priority, due_date, tags.
    assert details["changed_fields"] == ["priority", "due_date", "tags"]
    assert details["old_values"] == {
        "title": "Plan",
        "priority": "low",
        "due_date": "2030-05-06",
        "tags": ["a"],
    }
    assert details["new_values"] == {
        "title": "Plan",
        "priority": "high",
        "due_date": None,
        "tags": ["a", "b"],
    }
    await api.client.delete(f"/tasks/{task['id']}", headers=owner.auth)
    deleted = (await feed(api, owner))[0]
    assert (deleted["action"], deleted["resource_type"], deleted["resource_id"]) == (
        "deleted",
        "task",
        task["id"],
    )
    assert deleted["details"] == {
        "title": "Plan",
        "priority": "high",
        "completed": False,
        "tags": ["a", "b"],
        "due_date": None,
    }
    # The owner keeps the history of the deleted task.
    assert kinds(await feed(api, owner)) == [
        ("task", "deleted"),
        ("task", "updated"),
        ("task", "created"),
    ]


async def test_patch_changing_nothing_writes_no_entry(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner, title="Same", priority="medium")
    response = await api.client.patch(
        f"/tasks/{task['id']}", json={"title": "  Same ", "priority": "medium"}, headers=owner.auth
    )
    assert response.status_code == 200
    assert kinds(await feed(api, owner)) == [("task", "created")]


async def test_tag_changes_write_updated_entries(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner, tags=["a"])
    await api.client.post(f"/tasks/{task['id']}/tags", json=["b", "a"], headers=owner.auth)
    added = (await feed(api, owner))[0]
    assert (added["action"], added["details"]["changed_fields"]) == ("updated", ["tags"])
    assert added["details"]["old_values"] == {"tags": ["a"]}
    assert added["details"]["new_values"] == {"tags": ["a", "b"]}
    # Adding only tags already present changes nothing and logs nothing.
    await api.client.post(f"/tasks/{task['id']}/tags", json=["a"], headers=owner.auth)
    assert len(await feed(api, owner)) == 2
    await api.client.delete(f"/tasks/{task['id']}/tags/a", headers=owner.auth)
    removed = (await feed(api, owner))[0]
    assert removed["details"]["changed_fields"] == ["tags"]
    assert removed["details"]["old_values"] == {"tags": ["a", "b"]}
    assert removed["details"]["new_values"] == {"tags": ["b"]}


async def test_bulk_writes_one_entry_per_changed_task(api: Any) -> None:
    owner = await api.user()
    first = await api.task(owner)
    second = await api.task(owner)
    done = await api.task(owner, completed=True)
    response = await api.client.patch(
        "/tasks/bulk",
        json={"task_ids": [first["id"], second["id"], done["id"]], "updates": {"completed": True}},
        headers=owner.auth,
    )
    assert response.status_code == 200
    entries = await feed(api, owner, "?action=updated")
    assert sorted(e["resource_id"] for e in entries) == sorted([first["id"], second["id"]])
    for entry in entries:
        assert entry["details"]["changed_fields"] == ["completed"]
        assert entry["details"]["old_values"] == {"completed": False}
        assert entry["details"]["new_values"] == {"completed": True}


async def test_sharing_and_comment_and_file_details(api: Any) -> None:
    owner = await api.user()
    friend = await api.user()
    task = await api.task(owner, title="Shared one")
    await api.share(owner, task["id"], friend, "edit")
    shared = (await feed(api, owner))[0]
    assert (shared["action"], shared["resource_type"], shared["resource_id"]) == (
        "shared",
        "task",
        task["id"],
    )
    assert shared["details"] == {
        "task_title": "Shared one",
        "shared_with_user_id": friend.id,
        "shared_with_username": friend.username,
        "permission": "edit",
    }
    # Changing the permission logs nothing.
    await api.client.put(
        f"/tasks/{task['id']}/share/{friend.username}",
        json={"permission": "view"},
        headers=owner.auth,
    )
    assert (await feed(api, owner))[0]["id"] == shared["id"]

    long_text = "x" * 150
    comment = await api.comment(owner, task["id"], long_text)
    created = (await feed(api, owner))[0]
    assert (created["action"], created["resource_type"], created["resource_id"]) == (
        "created",
        "comment",
        comment["id"],
    )
    assert created["details"] == {
        "task_id": task["id"],
        "task_title": "Shared one",
        "content_preview": "x" * 100,
    }
    await api.client.patch(
        f"/comments/{comment['id']}", json={"content": "short"}, headers=owner.auth
    )
    edited = (await feed(api, owner))[0]
    assert (edited["action"], edited["resource_type"]) == ("updated", "comment")
    assert edited["details"] == {
        "task_id": task["id"],
        "task_title": "Shared one",
        "old_content": "x" * 100,
        "new_content": "short",
    }
    await api.client.delete(f"/comments/{comment['id']}", headers=owner.auth)
    removed = (await feed(api, owner))[0]
    assert (removed["action"], removed["resource_type"], removed["resource_id"]) == (
        "deleted",
        "comment",
        comment["id"],
    )
    assert removed["details"] == {
        "task_id": task["id"],
        "task_title": "Shared one",
        "content": "short",
    }

    stored = await api.upload(owner, task["id"], "Report Q1.txt", b"12345")
    uploaded = (await feed(api, owner))[0]
    assert (uploaded["action"], uploaded["resource_type"], uploaded["resource_id"]) == (
        "uploaded",
        "file",
        stored["id"],
    )
    assert uploaded["details"] == {
        "task_id": task["id"],
        "filename": "Report Q1.txt",
        "file_size": 5,
        "content_type": "text/plain",
    }
    await api.client.delete(f"/files/{stored['id']}", headers=owner.auth)
    file_deleted = (await feed(api, owner))[0]
    assert (file_deleted["action"], file_deleted["resource_type"]) == ("deleted", "file")
    assert file_deleted["details"] == {"task_id": task["id"], "filename": "Report Q1.txt"}

    await api.unshare(owner, task["id"], friend)
    unshared = (await feed(api, owner))[0]
    assert (unshared["action"], unshared["resource_type"]) == ("unshared", "task")
    assert unshared["details"] == {
        "task_title": "Shared one",
        "unshared_user_id": friend.id,
        "unshared_username": friend.username,
    }


async def test_quiet_operations_write_nothing(api: Any, mail: Any) -> None:
    account = await api.user()
    await api.client.patch(
        "/notifications/preferences", json={"task_completed": True}, headers=account.auth
    )
    await api.client.patch(
        "/users/me/change-password",
        json={"current_password": account.password, "new_password": "changed-pass-1"},
        headers=account.auth,
    )
    token = await api.login(account.username, "changed-pass-1")
    assert (
        await api.client.get("/activity", headers={"Authorization": f"Bearer {token}"})
    ).json() == []


# --------------------------------------------------------------------------- feed visibility


async def test_feed_visibility(api: Any) -> None:
    owner = await api.user()
    editor = await api.user()
    stranger = await api.user()
    task = await api.task(owner, title="Together")
    await api.share(owner, task["id"], editor, "edit")
    await api.client.patch(f"/tasks/{task['id']}", json={"priority": "high"}, headers=editor.auth)
    editor_comment = await api.comment(editor, task["id"], "from editor")
    await api.client.patch(f"/tasks/{task['id']}", json={"priority": "low"}, headers=owner.auth)
    owner_comment = await api.comment(owner, task["id"], "from owner")
    stored = await api.upload(owner, task["id"])

    owner_feed = await feed(api, owner)
    # Newest first; D14: the owner also sees the collaborator's actions on her task.
    assert [(e["username"], e["resource_type"], e["action"]) for e in owner_feed] == [
        (owner.username, "file", "uploaded"),
        (owner.username, "comment", "created"),
        (owner.username, "task", "updated"),
        (editor.username, "comment", "created"),
        (editor.username, "task", "updated"),
        (owner.username, "task", "shared"),
        (owner.username, "task", "created"),
    ]
    assert owner_feed[3]["resource_id"] == editor_comment["id"]
    assert [e["id"] for e in owner_feed] == sorted((e["id"] for e in owner_feed), reverse=True)

    editor_feed = await feed(api, editor)
    # The collaborator sees her own entries and the shared task's activity, except the
    # task's creation (and deletion).
    assert [(e["username"], e["resource_type"], e["action"]) for e in editor_feed] == [
        (owner.username, "file", "uploaded"),
        (owner.username, "comment", "created"),
        (owner.username, "task", "updated"),
        (editor.username, "comment", "created"),
        (editor.username, "task", "updated"),
        (owner.username, "task", "shared"),
    ]
    assert editor_feed[1]["resource_id"] == owner_comment["id"]
    assert editor_feed[0]["resource_id"] == stored["id"]
    assert await feed(api, stranger) == []

    # After the task is gone the collaborator keeps only her own entries.
    await api.client.delete(f"/tasks/{task['id']}", headers=owner.auth)
    assert [(e["user_id"], e["action"]) for e in await feed(api, editor)] == [
        (editor.id, "created"),
        (editor.id, "updated"),
    ]
    assert (await feed(api, owner))[0]["action"] == "deleted"


async def test_unsharing_hides_the_task_from_the_former_collaborator(api: Any) -> None:
    owner = await api.user()
    viewer = await api.user()
    task = await api.task(owner)
    await api.share(owner, task["id"], viewer, "view")
    await api.client.patch(f"/tasks/{task['id']}", json={"title": "changed"}, headers=owner.auth)
    assert kinds(await feed(api, viewer)) == [("task", "updated"), ("task", "shared")]
    await api.unshare(owner, task["id"], viewer)
    assert await feed(api, viewer) == []


async def test_feed_filters_and_paging(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    for title in ("one", "two", "three"):
        await api.client.patch(f"/tasks/{task['id']}", json={"title": title}, headers=owner.auth)
    comment = await api.comment(owner, task["id"])
    everything = await feed(api, owner)
    assert len(everything) == 5
    assert kinds(await feed(api, owner, "?resource_type=comment")) == [("comment", "created")]
    assert [e["id"] for e in await feed(api, owner, "?action=updated")] == [
        e["id"] for e in everything if e["action"] == "updated"
    ]
    assert await feed(api, owner, "?resource_type=task&action=created") == [everything[-1]]
    assert await feed(api, owner, "?resource_type=nothing") == []
    assert await feed(api, owner, "?limit=2") == everything[:2]
    assert await feed(api, owner, "?limit=2&offset=2") == everything[2:4]
    assert await feed(api, owner, "?offset=4") == everything[4:]
    assert await feed(api, owner, "?offset=10") == []
    first = dt.datetime.fromisoformat(everything[-1]["created_at"].replace("Z", "+00:00"))
    today = first.date()
    assert len(await feed(api, owner, f"?start_date={today}")) == 5
    assert await feed(api, owner, f"?start_date={today + dt.timedelta(days=1)}") == []
    assert await feed(api, owner, f"?end_date={today - dt.timedelta(days=1)}") == []
    stamp = everything[0]["created_at"]
    newest = await api.get(owner, "/activity", params={"start_date": stamp})
    assert [e["id"] for e in newest.json()] == [everything[0]["id"]]
    assert everything[0]["resource_id"] == comment["id"]
    naive = stamp.replace("Z", "")
    assert [
        e["id"] for e in (await api.get(owner, "/activity", params={"start_date": naive})).json()
    ] == [everything[0]["id"]]


async def test_feed_default_limit_is_50(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    for index in range(26):
        await api.client.patch(
            f"/tasks/{task['id']}", json={"title": f"t{index}"}, headers=owner.auth
        )
        await api.client.patch(
            f"/tasks/{task['id']}", json={"description": f"d{index}"}, headers=owner.auth
        )
    assert len(await feed(api, owner)) == 50
    assert len(await feed(api, owner, "?limit=100")) == 53


@pytest.mark.parametrize(
    ("query", "name", "kind"),
    [
        ("limit=0", "limit", "greater_than_equal"),
        ("limit=101", "limit", "less_than_equal"),
        ("offset=-1", "offset", "greater_than_equal"),
        ("start_date=soon", "start_date", "datetime_from_date_parsing"),
    ],
)
async def test_feed_validation(api: Any, query: str, name: str, kind: str) -> None:
    owner = await api.user()
    response = await api.get(owner, f"/activity?{query}")
    assert response.status_code == 422
    assert [(e["loc"], e["type"]) for e in response.json()["errors"]] == [(["query", name], kind)]


# --------------------------------------------------------------------------- stats


async def test_activity_stats_counts_own_actions_only(api: Any) -> None:
    owner = await api.user()
    friend = await api.user()
    empty = await api.get(owner, "/activity/stats")
    assert empty.status_code == 200
    assert empty.json() == {"total_activities": 0, "by_action": {}, "by_resource": {}}
    task = await api.task(owner)
    await api.client.patch(f"/tasks/{task['id']}", json={"title": "new"}, headers=owner.auth)
    await api.share(owner, task["id"], friend, "edit")
    await api.comment(owner, task["id"])
    await api.comment(friend, task["id"])
    await api.client.patch(f"/tasks/{task['id']}", json={"title": "by friend"}, headers=friend.auth)
    response = await api.get(owner, "/activity/stats")
    assert response.json() == {
        "total_activities": 4,
        "by_action": {"created": 2, "updated": 1, "shared": 1},
        "by_resource": {"task": 3, "comment": 1},
    }
    assert list(response.json()) == ["total_activities", "by_action", "by_resource"]
    assert (await api.get(friend, "/activity/stats")).json() == {
        "total_activities": 2,
        "by_action": {"created": 1, "updated": 1},
        "by_resource": {"comment": 1, "task": 1},
    }


# --------------------------------------------------------------------------- timeline


async def test_timeline_with_summaries(api: Any, kit: Any) -> None:
    owner = await api.user()
    editor = await api.user()
    other = await api.task(owner)  # its entries never show in this timeline
    task = await api.task(owner, title="Trip", priority="low")
    await api.share(owner, task["id"], editor, "edit")
    await api.client.patch(f"/tasks/{task['id']}", json={"priority": "high"}, headers=editor.auth)
    await api.client.patch(
        f"/tasks/{task['id']}", json={"title": "Trip 2", "completed": True}, headers=owner.auth
    )
    comment = await api.comment(editor, task["id"], "bring snacks")
    await api.client.patch(f"/comments/{comment['id']}", json={"content": "x"}, headers=editor.auth)
    stored = await api.upload(editor, task["id"], "plan.txt")
    await api.client.delete(f"/files/{stored['id']}", headers=owner.auth)
    await api.client.delete(f"/comments/{comment['id']}", headers=owner.auth)
    await api.comment(owner, other["id"])
    await api.unshare(owner, task["id"], editor)
    entries = await timeline(api, owner, task["id"])
    o, e = owner.username, editor.username
    assert [entry["summary"] for entry in entries] == [
        f"{o} created task 'Trip'",
        f"{o} shared task with {e} (edit)",
        f"{e} changed priority from low to high",
        f"{o} updated title, completed",
        f"{e} added a comment",
        f"{e} edited a comment",
        f"{e} uploaded plan.txt",
        f"{o} deleted plan.txt",
        f"{o} deleted a comment",
        f"{o} removed {e}'s access to task",
    ]
    assert [entry["id"] for entry in entries] == sorted(entry["id"] for entry in entries)
    assert entries[2]["username"] == e
    assert entries[2]["user_id"] == editor.id
    # The former collaborator is now a stranger.
    denied = await api.get(editor, f"/activity/tasks/{task['id']}")
    assert denied.status_code == 403
    assert denied.json() == kit.forbidden


async def test_timeline_visible_to_viewers_and_gone_with_the_task(api: Any, kit: Any) -> None:
    owner = await api.user()
    viewer = await api.user()
    task = await api.task(owner)
    await api.share(owner, task["id"], viewer, "view")
    assert len(await timeline(api, viewer, task["id"])) == 2
    await api.client.delete(f"/tasks/{task['id']}", headers=owner.auth)
    for who in (owner, viewer):
        response = await api.get(who, f"/activity/tasks/{task['id']}")
        assert response.status_code == 404
        assert response.json() == kit.not_found(task["id"])

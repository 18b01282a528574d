"""`GET /tasks/stats` (§6) and its cache: every mutation shows at once (D17)."""

from __future__ import annotations

from typing import Any

EMPTY = {
    "total": 0,
    "completed": 0,
    "incomplete": 0,
    "by_priority": {},
    "by_tag": {},
    "overdue": 0,
    "tasks_shared": 0,
    "comments_posted": 0,
}


async def stats(api: Any, who: Any) -> dict[str, Any]:
    response = await api.get(who, "/tasks/stats")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert list(body) == list(EMPTY)
    return body


async def test_empty_stats(api: Any) -> None:
    owner = await api.user()
    assert await stats(api, owner) == EMPTY
    assert await stats(api, owner) == EMPTY  # served from the cache: same answer


async def test_exact_numbers(api: Any) -> None:
    owner = await api.user()
    friend = await api.user()
    await api.task(owner, priority="high", tags=["work", "work", ""], due_date="2001-01-01")
    await api.task(
        owner, priority="medium", tags=["work", "urgent"], completed=True, due_date="2001-01-01"
    )
    await api.task(owner, priority="medium", tags=[""], due_date="2099-01-01")
    shared = await api.task(owner, priority="low")
    await api.share(owner, shared["id"], friend, "view")
    theirs = await api.task(friend)
    await api.share(friend, theirs["id"], owner, "view")
    await api.comment(owner, shared["id"])
    await api.comment(owner, theirs["id"])
    await api.comment(friend, shared["id"])
    assert await stats(api, owner) == {
        "total": 4,
        "completed": 1,
        "incomplete": 3,
        "by_priority": {"high": 1, "medium": 2, "low": 1},
        "by_tag": {"work": 3, "": 2, "urgent": 1},
        "overdue": 1,
        "tasks_shared": 1,
        "comments_posted": 2,
    }


async def test_two_shares_of_one_task_count_once(api: Any) -> None:
    owner = await api.user()
    first, second = await api.user(), await api.user()
    task = await api.task(owner)
    await api.share(owner, task["id"], first)
    await api.share(owner, task["id"], second, "edit")
    assert (await stats(api, owner))["tasks_shared"] == 1
    # The recipients own nothing and shared nothing.
    assert await stats(api, first) == EMPTY


async def test_own_mutations_show_immediately(api: Any) -> None:
    owner = await api.user()
    friend = await api.user()
    assert (await stats(api, owner))["total"] == 0  # primes the cache
    task = await api.task(owner, tags=["a"])
    assert (await stats(api, owner))["total"] == 1
    await api.client.patch(f"/tasks/{task['id']}", json={"completed": True}, headers=owner.auth)
    assert (await stats(api, owner))["completed"] == 1
    await api.client.post(f"/tasks/{task['id']}/tags", json=["b"], headers=owner.auth)
    assert (await stats(api, owner))["by_tag"] == {"a": 1, "b": 1}
    await api.client.delete(f"/tasks/{task['id']}/tags/a", headers=owner.auth)
    assert (await stats(api, owner))["by_tag"] == {"b": 1}
    await api.share(owner, task["id"], friend)
    assert (await stats(api, owner))["tasks_shared"] == 1
    await api.unshare(owner, task["id"], friend)
    assert (await stats(api, owner))["tasks_shared"] == 0
    comment = await api.comment(owner, task["id"])
    assert (await stats(api, owner))["comments_posted"] == 1
    await api.client.delete(f"/comments/{comment['id']}", headers=owner.auth)
    assert (await stats(api, owner))["comments_posted"] == 0
    other = await api.task(owner, priority="high")
    response = await api.client.patch(
        "/tasks/bulk",
        json={"task_ids": [task["id"], other["id"]], "updates": {"priority": "low"}},
        headers=owner.auth,
    )
    assert response.status_code == 200
    assert (await stats(api, owner))["by_priority"] == {"low": 2}
    await api.client.delete(f"/tasks/{task['id']}", headers=owner.auth)
    after = await stats(api, owner)
    assert (after["total"], after["completed"], after["by_tag"]) == (1, 0, {})


async def test_collaborators_actions_refresh_the_owners_numbers(api: Any) -> None:
    owner = await api.user()
    editor = await api.user()
    task = await api.task(owner, priority="low")
    await api.share(owner, task["id"], editor, "edit")
    assert (await stats(api, owner))["completed"] == 0
    assert (await stats(api, editor))["total"] == 0
    await api.client.patch(
        f"/tasks/{task['id']}", json={"completed": True, "priority": "high"}, headers=editor.auth
    )
    refreshed = await stats(api, owner)
    assert (refreshed["completed"], refreshed["by_priority"]) == (1, {"high": 1})
    await api.client.post(f"/tasks/{task['id']}/tags", json=["shared"], headers=editor.auth)
    assert (await stats(api, owner))["by_tag"] == {"shared": 1}
    await api.client.patch(
        "/tasks/bulk",
        json={"task_ids": [task["id"]], "updates": {"completed": False}},
        headers=editor.auth,
    )
    assert (await stats(api, owner))["completed"] == 0


async def test_comment_deletions_refresh_the_authors_numbers(api: Any) -> None:
    owner = await api.user()
    viewer = await api.user()
    task = await api.task(owner)
    await api.share(owner, task["id"], viewer, "view")
    first = await api.comment(viewer, task["id"])
    await api.comment(viewer, task["id"])
    assert (await stats(api, viewer))["comments_posted"] == 2
    # The owner removes the viewer's comment: the author's count drops at once.
    response = await api.client.delete(f"/comments/{first['id']}", headers=owner.auth)
    assert response.status_code == 204
    assert (await stats(api, viewer))["comments_posted"] == 1
    # Deleting the task takes the remaining comment with it.
    assert (await api.client.delete(f"/tasks/{task['id']}", headers=owner.auth)).status_code == 204
    assert (await stats(api, viewer))["comments_posted"] == 0

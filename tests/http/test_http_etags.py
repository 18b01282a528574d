"""ETag / If-Match / If-None-Match on tasks (issue 17 part 4, RFC 9110 §8.8.3 and §13).

A task's strong ETag is `"<id>-<version>"`; `version` is in every task of every answer. Every
change to what a read of the task shows (fields, tags, comments, share count) adds one.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.every_backend


def tag(task_id: int, version: int) -> str:
    return f'"{task_id}-{version}"'


def with_header(who: Any, name: str, value: str) -> dict[str, str]:
    return {**who.auth, name: value}


async def version_of(api: Any, who: Any, task_id: int) -> int:
    response = await api.get(who, f"/tasks/{task_id}")
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == tag(task_id, response.json()["version"])
    version: int = response.json()["version"]
    return version


def assert_stale(response: httpx.Response, current: dict[str, Any]) -> None:
    assert response.status_code == 412, response.text
    body = response.json()
    assert list(body) == ["detail", "task"]
    assert body["task"] == current
    assert body["detail"] == (
        f"Task {current['id']} has changed since you read it: "
        f"its current version is {current['version']}"
    )
    assert response.headers["etag"] == tag(current["id"], current["version"])


# --------------------------------------------------------------------------- reading


async def test_single_task_answers_carry_a_strong_etag_and_the_version(api: Any) -> None:
    owner = await api.user()
    created = await api.client.post("/tasks", json={"title": "t"}, headers=owner.auth)
    assert created.status_code == 201
    task = created.json()
    task_id = task["id"]
    assert task["version"] == 1
    assert created.headers["etag"] == tag(task_id, 1)

    read = await api.get(owner, f"/tasks/{task_id}")
    assert read.headers["etag"] == tag(task_id, 1)
    assert not read.headers["etag"].startswith("W/")

    patched = await api.client.patch(f"/tasks/{task_id}", json={"title": "u"}, headers=owner.auth)
    assert (patched.json()["version"], patched.headers["etag"]) == (2, tag(task_id, 2))
    added = await api.client.post(f"/tasks/{task_id}/tags", json=["a"], headers=owner.auth)
    assert (added.json()["version"], added.headers["etag"]) == (3, tag(task_id, 3))
    removed = await api.client.delete(f"/tasks/{task_id}/tags/a", headers=owner.auth)
    assert (removed.json()["version"], removed.headers["etag"]) == (4, tag(task_id, 4))
    assert await version_of(api, owner, task_id) == 4


async def test_lists_carry_the_version_of_each_task(api: Any) -> None:
    owner, friend = await api.user(), await api.user()
    first, second = await api.task(owner), await api.task(owner)
    await api.client.patch(f"/tasks/{second['id']}", json={"title": "x"}, headers=owner.auth)
    await api.share(owner, first["id"], friend, "edit")  # version 2: the share count shows
    page = (await api.get(owner, "/tasks")).json()["tasks"]
    assert {t["id"]: t["version"] for t in page} == {first["id"]: 2, second["id"]: 2}
    shared = (await api.get(friend, "/tasks/shared-with-me")).json()
    assert [item["task"]["version"] for item in shared] == [2]
    bulk = await api.client.patch(
        "/tasks/bulk",
        json={"task_ids": [first["id"], second["id"]], "updates": {"priority": "high"}},
        headers=owner.auth,
    )
    assert bulk.status_code == 200
    assert [t["version"] for t in bulk.json()] == [3, 3]
    assert "etag" not in bulk.headers  # a list has no single tag


async def test_a_change_that_changes_nothing_keeps_the_version(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner, priority="low", tags=["a"])
    task_id = task["id"]
    same = await api.client.patch(f"/tasks/{task_id}", json={"priority": "low"}, headers=owner.auth)
    assert (same.status_code, same.json()["version"]) == (200, 1)
    again = await api.client.post(f"/tasks/{task_id}/tags", json=["a"], headers=owner.auth)
    assert again.json()["version"] == 1
    assert await version_of(api, owner, task_id) == 1


async def test_comments_and_shares_change_the_version_files_do_not(api: Any) -> None:
    owner, friend = await api.user(), await api.user()
    task_id = (await api.task(owner))["id"]
    await api.share(owner, task_id, friend, "edit")
    assert await version_of(api, owner, task_id) == 2
    comment = await api.comment(friend, task_id, "first")
    assert await version_of(api, owner, task_id) == 3
    edited = await api.client.patch(
        f"/comments/{comment['id']}", json={"content": "edited"}, headers=friend.auth
    )
    assert edited.status_code == 200
    assert await version_of(api, owner, task_id) == 4
    deleted = await api.client.delete(f"/comments/{comment['id']}", headers=friend.auth)
    assert deleted.status_code == 204
    assert await version_of(api, owner, task_id) == 5
    # A permission change leaves what the task shows (its share count) as it was.
    changed = await api.client.put(
        f"/tasks/{task_id}/share/{friend.username}", json={"permission": "view"}, headers=owner.auth
    )
    assert changed.status_code == 200
    assert await version_of(api, owner, task_id) == 5
    await api.upload(owner, task_id)  # files are not part of the task's answer
    assert await version_of(api, owner, task_id) == 5
    await api.unshare(owner, task_id, friend)
    assert await version_of(api, owner, task_id) == 6


# --------------------------------------------------------------------------- If-None-Match


@pytest.mark.parametrize(
    "condition",
    [
        "{tag}",
        "W/{tag}",  # weak comparison
        '"{id}-999", {tag}',  # a list
        '  ,"x", {tag} , ',  # empty list elements and whitespace
        "*",
    ],
)
async def test_if_none_match_naming_the_current_version_answers_304(
    api: Any, condition: str
) -> None:
    owner = await api.user()
    task_id = (await api.task(owner))["id"]
    value = condition.format(tag=tag(task_id, 1), id=task_id)
    response = await api.client.get(
        f"/tasks/{task_id}", headers=with_header(owner, "If-None-Match", value)
    )
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == tag(task_id, 1)


@pytest.mark.parametrize(
    "condition",
    [
        '"{id}-1"',  # an older version
        '"{other}-2"',  # another task's tag at this version
        '"{id}-02"',  # not this server's spelling: opaque tags compare as strings
        "{id}-2",  # not a quoted tag: the header is malformed, so it names nothing
        '"{id}-2" "{id}-2"',  # no comma between the tags
        '"{id}-2',
        "",
    ],
)
async def test_if_none_match_naming_another_version_answers_the_task(
    api: Any, condition: str
) -> None:
    owner = await api.user()
    other = (await api.task(owner))["id"]
    task_id = (await api.task(owner))["id"]
    await api.client.patch(f"/tasks/{task_id}", json={"title": "x"}, headers=owner.auth)
    value = condition.format(id=task_id, other=other)
    response = await api.client.get(
        f"/tasks/{task_id}", headers=with_header(owner, "If-None-Match", value)
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response.headers["etag"] == tag(task_id, 2)


async def test_if_none_match_comes_after_404_and_403(api: Any) -> None:
    owner, stranger = await api.user(), await api.user()
    task_id = (await api.task(owner))["id"]
    hidden = await api.client.get(
        f"/tasks/{task_id}", headers=with_header(stranger, "If-None-Match", "*")
    )
    assert hidden.status_code == 403
    await api.client.delete(f"/tasks/{task_id}", headers=owner.auth)
    gone = await api.client.get(
        f"/tasks/{task_id}", headers=with_header(owner, "If-None-Match", "*")
    )
    assert gone.status_code == 404


# --------------------------------------------------------------------------- If-Match


async def test_patch_with_the_current_tag_succeeds_and_a_stale_one_gets_412(api: Any) -> None:
    owner = await api.user()
    task_id = (await api.task(owner, title="first"))["id"]
    ok = await api.client.patch(
        f"/tasks/{task_id}",
        json={"title": "second"},
        headers=with_header(owner, "If-Match", tag(task_id, 1)),
    )
    assert ok.status_code == 200
    assert ok.headers["etag"] == tag(task_id, 2)
    stale = await api.client.patch(
        f"/tasks/{task_id}",
        json={"title": "lost"},
        headers=with_header(owner, "If-Match", tag(task_id, 1)),
    )
    assert_stale(stale, ok.json())
    current = await api.get(owner, f"/tasks/{task_id}")
    assert current.json() == ok.json()  # nothing written
    activity = await api.get(owner, f"/activity/tasks/{task_id}")
    assert [entry["action"] for entry in activity.json()].count("updated") == 1


@pytest.mark.parametrize(
    ("condition", "passes"),
    [
        ("*", True),
        ("{tag}", True),
        ('"{id}-1", {tag}', True),  # any tag of the list
        ('"{id}-1","{id}-3"', False),
        ("W/{tag}", False),  # strong comparison: a weak tag never matches
        ('"{other}-2"', False),  # another task's tag
        ('"{id}-02"', False),
        ('"{id}-99999999999999999999999"', False),
        ("{id}-2", False),  # malformed: names nothing
        ("", False),
    ],
)
async def test_if_match_forms(api: Any, condition: str, passes: bool) -> None:
    owner = await api.user()
    other = (await api.task(owner))["id"]
    await api.client.patch(f"/tasks/{other}", json={"title": "x"}, headers=owner.auth)
    task_id = (await api.task(owner))["id"]
    await api.client.patch(f"/tasks/{task_id}", json={"title": "x"}, headers=owner.auth)
    value = condition.format(tag=tag(task_id, 2), id=task_id, other=other)
    response = await api.client.patch(
        f"/tasks/{task_id}", json={"title": "y"}, headers=with_header(owner, "If-Match", value)
    )
    if passes:
        assert response.status_code == 200, response.text
        assert response.json()["version"] == 3
    else:
        current = (await api.get(owner, f"/tasks/{task_id}")).json()
        assert current["version"] == 2
        assert_stale(response, current)


async def test_tag_routes_honour_if_match(api: Any) -> None:
    owner = await api.user()
    task_id = (await api.task(owner, tags=["a"]))["id"]
    stale = with_header(owner, "If-Match", tag(task_id, 7))
    refused_add = await api.client.post(f"/tasks/{task_id}/tags", json=["b"], headers=stale)
    current = (await api.get(owner, f"/tasks/{task_id}")).json()
    assert_stale(refused_add, current)
    refused_remove = await api.client.delete(f"/tasks/{task_id}/tags/a", headers=stale)
    assert_stale(refused_remove, current)
    # A stale tag is refused before the tag's absence is looked at.
    refused_missing = await api.client.delete(f"/tasks/{task_id}/tags/zzz", headers=stale)
    assert_stale(refused_missing, current)

    fresh = with_header(owner, "If-Match", tag(task_id, 1))
    added = await api.client.post(f"/tasks/{task_id}/tags", json=["b"], headers=fresh)
    assert (added.status_code, added.json()["tags"]) == (200, ["a", "b"])
    fresh = with_header(owner, "If-Match", added.headers["etag"])
    removed = await api.client.delete(f"/tasks/{task_id}/tags/a", headers=fresh)
    assert (removed.status_code, removed.json()["tags"]) == (200, ["b"])


async def test_delete_honours_if_match(api: Any) -> None:
    owner = await api.user()
    task_id = (await api.task(owner))["id"]
    await api.client.patch(f"/tasks/{task_id}", json={"title": "x"}, headers=owner.auth)
    stale = await api.client.delete(
        f"/tasks/{task_id}", headers=with_header(owner, "If-Match", tag(task_id, 1))
    )
    assert_stale(stale, (await api.get(owner, f"/tasks/{task_id}")).json())
    deleted = await api.client.delete(
        f"/tasks/{task_id}", headers=with_header(owner, "If-Match", tag(task_id, 2))
    )
    assert deleted.status_code == 204
    # `*` on a task that no longer exists: the 404 it would get anyway (RFC 9110 §13.2.1).
    gone = await api.client.delete(f"/tasks/{task_id}", headers=with_header(owner, "If-Match", "*"))
    assert gone.status_code == 404


async def test_a_comment_makes_an_editors_tag_stale(api: Any) -> None:
    owner, viewer = await api.user(), await api.user()
    task_id = (await api.task(owner))["id"]
    await api.share(owner, task_id, viewer, "view")
    read = await api.get(owner, f"/tasks/{task_id}")
    await api.comment(viewer, task_id, "meanwhile")
    response = await api.client.patch(
        f"/tasks/{task_id}",
        json={"completed": True},
        headers=with_header(owner, "If-Match", read.headers["etag"]),
    )
    current = (await api.get(owner, f"/tasks/{task_id}")).json()
    assert [c["content"] for c in current["comments"]] == ["meanwhile"]
    assert_stale(response, current)


async def test_if_match_comes_after_validation_404_403_and_an_empty_body(api: Any) -> None:
    owner, viewer = await api.user(), await api.user()
    task_id = (await api.task(owner))["id"]
    await api.share(owner, task_id, viewer, "view")
    stale = tag(task_id, 99)
    invalid = await api.client.patch(
        f"/tasks/{task_id}",
        json={"priority": "urgent"},
        headers=with_header(owner, "If-Match", stale),
    )
    assert invalid.status_code == 422
    forbidden = await api.client.patch(
        f"/tasks/{task_id}", json={"title": "x"}, headers=with_header(viewer, "If-Match", stale)
    )
    assert forbidden.status_code == 403
    missing = await api.client.patch(
        "/tasks/2000000000", json={"title": "x"}, headers=with_header(owner, "If-Match", "*")
    )
    assert missing.status_code == 404
    # An empty body breaks the document's rule for it (`minProperties`): refused first too.
    empty = await api.client.patch(
        f"/tasks/{task_id}", json={}, headers=with_header(owner, "If-Match", stale)
    )
    assert (empty.status_code, empty.json()) == (400, {"detail": "No fields provided for update"})


async def test_without_the_headers_writes_are_unconditional(api: Any) -> None:
    """What the two React clients do: no conditional header, the behaviour of before."""
    owner, editor = await api.user(), await api.user()
    task_id = (await api.task(owner))["id"]
    await api.share(owner, task_id, editor, "edit")
    for who, body in [(owner, {"title": "a"}), (editor, {"title": "b"}), (owner, {"tags": []})]:
        response = await api.client.patch(f"/tasks/{task_id}", json=body, headers=who.auth)
        assert response.status_code == 200
    read = await api.get(owner, f"/tasks/{task_id}")
    assert (read.status_code, read.json()["title"]) == (200, "b")
    assert (await api.client.delete(f"/tasks/{task_id}", headers=owner.auth)).status_code == 204

"""Sharing (§3.4), shared-with-me (§2.6) and comments (§3.5, D13)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.every_backend

SHARE_KEYS = [
    "id",
    "task_id",
    "shared_with_user_id",
    "shared_with_username",
    "permission",
    "shared_at",
]
COMMENT_KEYS = ["id", "task_id", "user_id", "content", "created_at", "updated_at", "username"]


def not_authorized(user_id: int, comment_id: int) -> dict[str, str]:
    return {"detail": f"User {user_id} is not authorized to access comment_id={comment_id}"}


# --------------------------------------------------------------------------- sharing


async def test_share_answers_share(api: Any) -> None:
    owner = await api.user()
    friend = await api.user()
    task = await api.task(owner)
    response = await api.client.post(
        f"/tasks/{task['id']}/share",
        json={"shared_with_username": friend.username},
        headers=owner.auth,
    )
    assert response.status_code == 201
    share = response.json()
    assert list(share) == SHARE_KEYS
    assert share["task_id"] == task["id"]
    assert share["shared_with_user_id"] == friend.id
    assert share["shared_with_username"] == friend.username
    assert share["permission"] == "view"
    assert share["shared_at"].endswith("Z")
    listed = await api.get(owner, f"/tasks/{task['id']}/shares")
    assert listed.status_code == 200
    assert listed.json() == [share]
    assert (await api.get(owner, f"/tasks/{task['id']}")).json()["share_count"] == 1


async def test_shares_list_in_id_order(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    assert (await api.get(owner, f"/tasks/{task['id']}/shares")).json() == []
    made = [await api.share(owner, task["id"], await api.user(), p) for p in ("edit", "view")]
    assert (await api.get(owner, f"/tasks/{task['id']}/shares")).json() == made


async def test_share_errors(api: Any) -> None:
    owner = await api.user()
    friend = await api.user()
    task = await api.task(owner)
    path = f"/tasks/{task['id']}/share"

    async def share(body: dict[str, Any]) -> Any:
        return await api.client.post(path, json=body, headers=owner.auth)

    myself = await share({"shared_with_username": owner.username})
    assert myself.status_code == 400
    assert myself.json() == {"detail": "Cannot share task with yourself"}
    ghost = await share({"shared_with_username": "ghost_nobody_here"})
    assert ghost.status_code == 404
    assert ghost.json() == {"detail": "User 'ghost_nobody_here' not found"}
    # Usernames match exactly.
    shouted = await share({"shared_with_username": friend.username.upper()})
    assert shouted.status_code == 404
    assert (await share({"shared_with_username": friend.username})).status_code == 201
    for permission in ("view", "edit"):
        again = await share({"shared_with_username": friend.username, "permission": permission})
        assert again.status_code == 409
        assert again.json() == {"detail": "Task already shared with this user"}
    bad = await share({"shared_with_username": friend.username, "permission": "admin"})
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {
            "type": "literal_error",
            "loc": ["body", "permission"],
            "msg": "Input should be 'view' or 'edit'",
            "input": "admin",
            "ctx": {"expected": "'view' or 'edit'"},
        }
    ]
    missing = await share({})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["body", "shared_with_username"]


async def test_change_permission(api: Any) -> None:
    owner = await api.user()
    friend = await api.user()
    task = await api.task(owner)
    share = await api.share(owner, task["id"], friend, "view")
    path = f"/tasks/{task['id']}/share/{friend.username}"
    response = await api.client.put(path, json={"permission": "edit"}, headers=owner.auth)
    assert response.status_code == 200
    changed = response.json()
    assert changed == {**share, "permission": "edit"}
    assert changed["shared_at"].endswith("Z")
    # The collaborator may edit now.
    edit = await api.client.patch(f"/tasks/{task['id']}", json={"title": "x"}, headers=friend.auth)
    assert edit.status_code == 200
    missing = await api.client.put(path, json={}, headers=owner.auth)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["body", "permission"]


async def test_change_permission_errors(api: Any) -> None:
    owner = await api.user()
    outsider = await api.user()
    task = await api.task(owner)
    ghost = await api.client.put(
        f"/tasks/{task['id']}/share/ghost_user_x", json={"permission": "edit"}, headers=owner.auth
    )
    assert ghost.status_code == 404
    assert ghost.json() == {"detail": "User 'ghost_user_x' not found"}
    unshared = await api.client.put(
        f"/tasks/{task['id']}/share/{outsider.username}",
        json={"permission": "edit"},
        headers=owner.auth,
    )
    assert unshared.status_code == 404
    # §3.4 prints a literal `{username}`; substituting the name is allowed (§11 #33).
    assert unshared.json()["detail"] in (
        "Task is not shared with '{username}'",
        f"Task is not shared with '{outsider.username}'",
    )


async def test_unshare_removes_access(api: Any, kit: Any) -> None:
    owner = await api.user()
    friend = await api.user()
    task = await api.task(owner)
    await api.share(owner, task["id"], friend, "edit")
    assert (await api.get(friend, f"/tasks/{task['id']}")).status_code == 200
    path = f"/tasks/{task['id']}/share/{friend.username}"
    response = await api.client.delete(path, headers=owner.auth)
    assert response.status_code == 204
    assert response.content == b""
    denied = await api.get(friend, f"/tasks/{task['id']}")
    assert denied.status_code == 403
    assert denied.json() == kit.forbidden
    assert (await api.get(friend, "/tasks/shared-with-me")).json() == []
    again = await api.client.delete(path, headers=owner.auth)
    assert again.status_code == 404
    assert again.json()["detail"] in (
        "Task is not shared with user '{username}",
        f"Task is not shared with user '{friend.username}'",
        f"Task is not shared with user '{friend.username}",
    )
    ghost = await api.client.delete(f"/tasks/{task['id']}/share/ghost_zz", headers=owner.auth)
    assert ghost.status_code == 404
    assert (await api.get(owner, f"/tasks/{task['id']}")).json()["share_count"] == 0


async def test_shared_with_me(api: Any) -> None:
    owner = await api.user()
    me = await api.user()
    first = await api.task(owner, title="first")
    second = await api.task(owner, title="second")
    await api.task(owner, title="not shared")
    await api.share(owner, second["id"], me, "edit")
    await api.share(owner, first["id"], me, "view")
    await api.share(owner, first["id"], await api.user(), "view")
    comment = await api.comment(owner, first["id"], "look")
    response = await api.get(me, "/tasks/shared-with-me")
    assert response.status_code == 200
    items = response.json()
    assert [list(item) for item in items] == [
        ["task", "permission", "is_owner", "owner_username"]
    ] * 2
    # Share id order: `second` was shared first.
    assert [(i["task"]["title"], i["permission"]) for i in items] == [
        ("second", "edit"),
        ("first", "view"),
    ]
    assert all(i["is_owner"] is False and i["owner_username"] == owner.username for i in items)
    shared_first = items[1]["task"]
    assert shared_first["share_count"] == 2
    assert shared_first["user_id"] == owner.id
    # D13: embedded comments carry the author's username.
    assert shared_first["comments"] == [comment]
    assert (await api.get(owner, "/tasks/shared-with-me")).json() == []


# --------------------------------------------------------------------------- comments


async def test_add_and_list_comments(api: Any) -> None:
    owner = await api.user()
    viewer = await api.user()
    task = await api.task(owner)
    await api.share(owner, task["id"], viewer, "view")
    response = await api.client.post(
        f"/tasks/{task['id']}/comments", json={"content": "  spaced  "}, headers=viewer.auth
    )
    assert response.status_code == 201
    first = response.json()
    assert list(first) == COMMENT_KEYS
    assert first["content"] == "  spaced  "
    assert (first["task_id"], first["user_id"], first["username"]) == (
        task["id"],
        viewer.id,
        viewer.username,
    )
    assert first["updated_at"] is None
    assert first["created_at"].endswith("Z")
    second = await api.comment(owner, task["id"], "reply")
    listed = await api.get(viewer, f"/tasks/{task['id']}/comments")
    assert listed.status_code == 200
    assert listed.json() == [first, second]
    # D13: the task embeds the same comments, usernames filled.
    embedded = (await api.get(owner, f"/tasks/{task['id']}")).json()["comments"]
    assert sorted(embedded, key=lambda c: c["id"]) == [first, second]


@pytest.mark.parametrize(
    ("body", "kind", "loc"),
    [
        ({"content": ""}, "string_too_short", ["body", "content"]),
        ({"content": "c" * 1001}, "string_too_long", ["body", "content"]),
        ({}, "missing", ["body", "content"]),
        ({"content": 3}, "string_type", ["body", "content"]),
    ],
)
async def test_comment_validation(
    api: Any, body: dict[str, Any], kind: str, loc: list[str]
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    response = await api.client.post(f"/tasks/{task['id']}/comments", json=body, headers=owner.auth)
    assert response.status_code == 422
    assert [(e["type"], e["loc"]) for e in response.json()["errors"]] == [(kind, loc)]
    comment = await api.comment(owner, task["id"])
    response = await api.client.patch(f"/comments/{comment['id']}", json=body, headers=owner.auth)
    assert response.status_code == 422
    # Validation comes before the comment lookup.
    response = await api.client.patch("/comments/2147483000", json=body, headers=owner.auth)
    assert response.status_code == 422


async def test_comment_of_1000_characters_is_fine(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    assert (await api.comment(owner, task["id"], "c" * 1000))["content"] == "c" * 1000


async def test_edit_comment_author_only(api: Any, kit: Any) -> None:
    owner = await api.user()
    editor = await api.user()
    stranger = await api.user()
    task = await api.task(owner)
    await api.share(owner, task["id"], editor, "edit")
    comment = await api.comment(editor, task["id"], "original")
    path = f"/comments/{comment['id']}"
    by_owner = await api.client.patch(path, json={"content": "hijack"}, headers=owner.auth)
    assert by_owner.status_code == 403
    assert by_owner.json() == not_authorized(owner.id, comment["id"])
    by_stranger = await api.client.patch(path, json={"content": "x"}, headers=stranger.auth)
    assert by_stranger.status_code == 403
    assert by_stranger.json() == kit.forbidden
    by_author = await api.client.patch(path, json={"content": " edited "}, headers=editor.auth)
    assert by_author.status_code == 200
    edited = by_author.json()
    assert list(edited) == COMMENT_KEYS
    assert edited["content"] == " edited "
    assert edited["username"] == editor.username
    assert edited["created_at"] == comment["created_at"]
    assert edited["updated_at"] is not None
    assert edited["updated_at"].endswith("Z")
    missing = await api.client.patch(
        "/comments/2147483000", json={"content": "x"}, headers=owner.auth
    )
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Comment not found"}


async def test_delete_comment_author_or_owner(api: Any, kit: Any) -> None:
    owner = await api.user()
    author = await api.user()
    other = await api.user()
    stranger = await api.user()
    task = await api.task(owner)
    await api.share(owner, task["id"], author, "view")
    await api.share(owner, task["id"], other, "edit")
    first = await api.comment(author, task["id"])
    second = await api.comment(author, task["id"])
    by_other = await api.client.delete(f"/comments/{first['id']}", headers=other.auth)
    assert by_other.status_code == 403
    assert by_other.json() == not_authorized(other.id, first["id"])
    by_stranger = await api.client.delete(f"/comments/{first['id']}", headers=stranger.auth)
    assert by_stranger.status_code == 403
    assert by_stranger.json() == kit.forbidden
    by_author = await api.client.delete(f"/comments/{first['id']}", headers=author.auth)
    assert by_author.status_code == 204
    assert by_author.content == b""
    by_owner = await api.client.delete(f"/comments/{second['id']}", headers=owner.auth)
    assert by_owner.status_code == 204
    assert (await api.get(owner, f"/tasks/{task['id']}/comments")).json() == []
    gone = await api.client.delete(f"/comments/{first['id']}", headers=author.auth)
    assert gone.status_code == 404
    assert gone.json() == {"detail": "Comment not found"}


async def test_comments_on_missing_task(api: Any, kit: Any) -> None:
    owner = await api.user()
    for method, body in (("GET", None), ("POST", {"content": "x"})):
        response = await api.client.request(
            method, "/tasks/2147483000/comments", json=body, headers=owner.auth
        )
        assert response.status_code == 404
        assert response.json() == kit.not_found(2147483000)

"""Issue #14 items 4 and 12 over HTTP: the 100-tag cap on every path that changes tags, and
control characters refused in one-line text (titles, tags) but line breaks kept in descriptions
and comments."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

MAX_TAGS = 100


def _assert_422_at(response: httpx.Response, loc: list[Any]) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert isinstance(body["detail"], str)
    assert [item["loc"] for item in body["errors"]] == [loc], body


async def _tags_of(client: httpx.AsyncClient, auth: dict[str, str], task_id: int) -> list[str]:
    response = await client.get(f"/tasks/{task_id}", headers=auth)
    assert response.status_code == 200
    tags: list[str] = response.json()["tags"]
    return tags


# --- item 4: the tag cap -------------------------------------------------------------------------


async def test_the_tags_route_keeps_the_cap_for_an_edit_collaborator(
    api: Any, client: httpx.AsyncClient
) -> None:
    owner, editor = await api.user("cap"), await api.user("cap")
    task = await api.task(owner, tags=[f"t{i}" for i in range(MAX_TAGS - 1)])
    await api.share(owner, task["id"], editor, "edit")
    url = f"/tasks/{task['id']}/tags"

    one_more = await client.post(url, json=["last"], headers=editor.auth)
    assert one_more.status_code == 200, one_more.text
    assert len(one_more.json()["tags"]) == MAX_TAGS

    past_the_cap = await client.post(url, json=["x1", "x2"], headers=editor.auth)
    _assert_422_at(past_the_cap, ["body"])
    assert "100 tags" in past_the_cap.json()["detail"]
    # A tag already there adds nothing (merge), so it is no growth and passes.
    again = await client.post(url, json=["last"], headers=editor.auth)
    assert again.status_code == 200, again.text
    assert len(await _tags_of(client, owner.auth, task["id"])) == MAX_TAGS


async def test_many_small_additions_never_pass_the_cap(api: Any, client: httpx.AsyncClient) -> None:
    owner = await api.user("cap")
    task = await api.task(owner)
    url = f"/tasks/{task['id']}/tags"
    statuses = []
    for batch in range(21):  # 21 x 5 = 105 distinct tags offered
        sent = [f"b{batch}-{i}" for i in range(5)]
        statuses.append((await client.post(url, json=sent, headers=owner.auth)).status_code)
    assert statuses == [200] * 20 + [422]
    assert len(await _tags_of(client, owner.auth, task["id"])) == MAX_TAGS


async def test_create_patch_and_bulk_keep_the_cap(api: Any, client: httpx.AsyncClient) -> None:
    owner = await api.user("cap")
    too_many = [f"t{i}" for i in range(MAX_TAGS + 1)]
    created = await client.post(
        "/tasks", json={"title": "capped", "tags": too_many}, headers=owner.auth
    )
    assert created.status_code == 422
    task = await api.task(owner)
    patched = await client.patch(
        f"/tasks/{task['id']}", json={"tags": too_many}, headers=owner.auth
    )
    assert patched.status_code == 422
    bulk = await client.patch(
        "/tasks/bulk",
        json={"task_ids": [task["id"]], "updates": {"tags": too_many}},
        headers=owner.auth,
    )
    assert bulk.status_code == 422
    assert await _tags_of(client, owner.auth, task["id"]) == []


# --- item 12: control characters ------------------------------------------------------------------

ONE_LINE_REFUSED = ["T\r\nBcc: x@evil", "line\nbreak", "bell\x07", "escape \x1b[31m", "mid\x85dle"]


@pytest.mark.parametrize("text", ONE_LINE_REFUSED)
async def test_titles_and_tags_refuse_control_characters(
    text: str, api: Any, client: httpx.AsyncClient
) -> None:
    owner = await api.user("ctl")
    task = await api.task(owner, title="clean")
    attempts = [
        (client.post("/tasks", json={"title": text}, headers=owner.auth), ["body", "title"]),
        (
            client.post("/tasks", json={"title": "ok", "tags": ["fine", text]}, headers=owner.auth),
            ["body", "tags", 1],
        ),
        (
            client.patch(f"/tasks/{task['id']}", json={"title": text}, headers=owner.auth),
            ["body", "title"],
        ),
        (
            client.patch(
                "/tasks/bulk",
                json={"task_ids": [task["id"]], "updates": {"title": text}},
                headers=owner.auth,
            ),
            ["body", "updates", "title"],
        ),
        (
            client.post(f"/tasks/{task['id']}/tags", json=[text], headers=owner.auth),
            ["body", 0],
        ),
    ]
    for attempt, loc in attempts:
        _assert_422_at(await attempt, loc)
    unchanged = await client.get(f"/tasks/{task['id']}", headers=owner.auth)
    assert (unchanged.json()["title"], unchanged.json()["tags"]) == ("clean", [])


async def test_line_breaks_are_content_in_descriptions_and_comments(
    api: Any, client: httpx.AsyncClient
) -> None:
    owner = await api.user("ctl")
    text = "first line\nsecond line\r\nthird\tcolumn"
    task = await api.task(owner, description=text)
    assert task["description"] == text
    comment = await client.post(
        f"/tasks/{task['id']}/comments", json={"content": text}, headers=owner.auth
    )
    assert comment.status_code == 201, comment.text
    assert comment.json()["content"] == text


@pytest.mark.parametrize("text", ["lone\rreturn", "escape \x1b[31mred", "nul-free\x0bvtab"])
async def test_other_control_characters_are_refused_in_descriptions_and_comments(
    text: str, api: Any, client: httpx.AsyncClient
) -> None:
    owner = await api.user("ctl")
    task = await api.task(owner)
    described = await client.patch(
        f"/tasks/{task['id']}", json={"description": text}, headers=owner.auth
    )
    _assert_422_at(described, ["body", "description"])
    commented = await client.post(
        f"/tasks/{task['id']}/comments", json={"content": text}, headers=owner.auth
    )
    _assert_422_at(commented, ["body", "content"])


# --- informational: one spelling of a path id ----------------------------------------------------

ID_ROUTES = [
    ("GET", "/tasks/{id}", "task_id", None),
    ("PATCH", "/tasks/{id}", "task_id", {"title": "t"}),
    ("DELETE", "/tasks/{id}", "task_id", None),
    ("GET", "/tasks/{id}/comments", "task_id", None),
    ("POST", "/tasks/{id}/comments", "task_id", {"content": "c"}),
    ("GET", "/tasks/{id}/files", "task_id", None),
    ("POST", "/tasks/{id}/tags", "task_id", ["t"]),
    ("DELETE", "/tasks/{id}/tags/x", "task_id", None),
    ("GET", "/tasks/{id}/shares", "task_id", None),
    ("POST", "/tasks/{id}/share", "task_id", {"shared_with_username": "someone"}),
    ("PUT", "/tasks/{id}/share/someone", "task_id", {"permission": "edit"}),
    ("DELETE", "/tasks/{id}/share/someone", "task_id", None),
    ("GET", "/activity/tasks/{id}", "task_id", None),
    ("PATCH", "/comments/{id}", "comment_id", {"content": "c"}),
    ("DELETE", "/comments/{id}", "comment_id", None),
    ("GET", "/files/{id}", "file_id", None),
    ("DELETE", "/files/{id}", "file_id", None),
    ("GET", "/users/{id}/avatar.png", "user_id", None),
]
OTHER_SPELLINGS = ["1.0", "+1", "%201", "1_0", "0x1"]


@pytest.mark.parametrize(("method", "template", "name", "body"), ID_ROUTES)
async def test_a_path_id_has_one_spelling(
    method: str, template: str, name: str, body: Any, api: Any, client: httpx.AsyncClient
) -> None:
    owner = await api.user("ids")
    for spelling in OTHER_SPELLINGS:
        response = await client.request(
            method, template.format(id=spelling), headers=owner.auth, json=body
        )
        assert response.status_code == 422, (spelling, response.text)
        [item] = response.json()["errors"]
        assert (item["type"], item["loc"]) == ("int_parsing", ["path", name])

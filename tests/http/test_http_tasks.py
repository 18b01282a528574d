"""Task CRUD, validation, partial updates, bulk updates and tags (§3.3 with D8, D12)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pytestmark = pytest.mark.every_backend

TASK_KEYS = [
    "id",
    "title",
    "description",
    "completed",
    "priority",
    "created_at",
    "due_date",
    "tags",
    "user_id",
    "comments",
    "share_count",
    "version",
]
NO_FIELDS = {"detail": "No fields provided for update"}
BEYOND_INT32 = 2**31


def errors_of(response: Any) -> list[tuple[list[Any], str]]:
    body = response.json()
    assert response.status_code == 422, response.text
    assert isinstance(body["detail"], str)
    return [(error["loc"], error["type"]) for error in body["errors"]]


# --------------------------------------------------------------------------- create


async def test_create_answers_full_task_trimmed(api: Any) -> None:
    owner = await api.user()
    response = await api.client.post(
        "/tasks",
        json={
            "title": "  Buy milk  ",
            "description": "  two litres ",
            "priority": "high",
            "due_date": "2030-01-15",
            "tags": [" home ", "shop", "", " home"],
            "completed": True,
        },
        headers=owner.auth,
    )
    assert response.status_code == 201
    task = response.json()
    assert list(task) == TASK_KEYS
    assert isinstance(task["id"], int)
    assert task["title"] == "Buy milk"
    assert task["description"] == "two litres"
    assert task["completed"] is True
    assert task["priority"] == "high"
    assert task["due_date"] == "2030-01-15"
    assert task["tags"] == ["home", "shop", "", "home"]
    assert task["user_id"] == owner.id
    assert task["comments"] == []
    assert task["share_count"] == 0
    created = task["created_at"]
    assert created.endswith("Z")
    parsed = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
    assert abs((dt.datetime.now(dt.UTC) - parsed).total_seconds()) < 120
    # GET answers the same object.
    fetched = await api.get(owner, f"/tasks/{task['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == task


async def test_create_defaults(api: Any) -> None:
    owner = await api.user()
    response = await api.client.post("/tasks", json={"title": "Only a title"}, headers=owner.auth)
    assert response.status_code == 201
    task = response.json()
    assert {k: task[k] for k in ("description", "completed", "priority", "due_date", "tags")} == {
        "description": None,
        "completed": False,
        "priority": "medium",
        "due_date": None,
        "tags": [],
    }


async def test_create_keeps_empty_description_and_limits_after_trimming(api: Any) -> None:
    owner = await api.user()
    blank = await api.task(owner, description="   ")
    assert blank["description"] == ""
    padded = await api.task(owner, title="  " + "t" * 200 + "  ", description=" " + "d" * 1000)
    assert padded["title"] == "t" * 200
    assert padded["description"] == "d" * 1000


async def test_create_ignores_unknown_fields(api: Any) -> None:
    owner = await api.user()
    other = await api.user()
    task = await api.task(owner, user_id=other.id, notes="secret", id=1, share_count=9)
    assert task["user_id"] == owner.id
    assert task["share_count"] == 0
    assert "notes" not in task


async def test_create_accepts_midnight_datetime_as_date(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner, due_date="2020-01-01T00:00:00")
    assert task["due_date"] == "2020-01-01"


async def test_create_blank_title_is_too_short(api: Any) -> None:
    owner = await api.user()
    response = await api.client.post("/tasks", json={"title": "   "}, headers=owner.auth)
    assert response.status_code == 422
    assert response.json() == {
        "detail": "title: String should have at least 1 character",
        "errors": [
            {
                "type": "string_too_short",
                "loc": ["body", "title"],
                "msg": "String should have at least 1 character",
                "input": "   ",
                "ctx": {"min_length": 1},
            }
        ],
    }


async def test_create_priority_literal_error(api: Any) -> None:
    owner = await api.user()
    response = await api.client.post(
        "/tasks", json={"title": "x", "priority": "urgent"}, headers=owner.auth
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "type": "literal_error",
            "loc": ["body", "priority"],
            "msg": "Input should be 'low', 'medium' or 'high'",
            "input": "urgent",
            "ctx": {"expected": "'low', 'medium' or 'high'"},
        }
    ]


async def test_create_inexact_datetime_due_date(api: Any) -> None:
    owner = await api.user()
    response = await api.client.post(
        "/tasks", json={"title": "x", "due_date": "2020-01-01T10:30:00"}, headers=owner.auth
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "type": "date_from_datetime_inexact",
            "loc": ["body", "due_date"],
            "msg": "Datetimes provided to dates should have zero time - e.g. be exact dates",
            "input": "2020-01-01T10:30:00",
        }
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, [(["body", "title"], "missing")]),
        ({"title": "t" * 201}, [(["body", "title"], "string_too_long")]),
        ({"title": "x", "description": "d" * 1001}, [(["body", "description"], "string_too_long")]),
        ({"title": "x", "tags": None}, [(["body", "tags"], "list_type")]),
        ({"title": "x", "tags": "a,b"}, [(["body", "tags"], "list_type")]),
        ({"title": "x", "tags": ["ok", 5]}, [(["body", "tags", 1], "string_type")]),
        (
            {"title": "x", "due_date": "tomorrow"},
            [(["body", "due_date"], "date_from_datetime_parsing")],
        ),
        ({"title": "x", "completed": "maybe"}, [(["body", "completed"], "bool_parsing")]),
        ({"title": 5}, [(["body", "title"], "string_type")]),
        (
            {"title": "", "priority": "none", "tags": None},
            [
                (["body", "title"], "string_too_short"),
                (["body", "priority"], "literal_error"),
                (["body", "tags"], "list_type"),
            ],
        ),
    ],
)
async def test_create_validation(api: Any, body: dict[str, Any], expected: list[Any]) -> None:
    owner = await api.user()
    response = await api.client.post("/tasks", json=body, headers=owner.auth)
    assert errors_of(response) == expected


async def test_create_description_null_is_allowed(api: Any) -> None:
    owner = await api.user()
    assert (await api.task(owner, description=None))["description"] is None


# --------------------------------------------------------------------------- get / ids


async def test_get_missing_task_is_family_a_404(api: Any, kit: Any) -> None:
    owner = await api.user()
    for task_id in (2_147_483_000, 0, -1):
        response = await api.get(owner, f"/tasks/{task_id}")
        assert response.status_code == 404
        assert response.json() == kit.not_found(task_id)


@pytest.mark.parametrize("task_id", [BEYOND_INT32, 10**20])
async def test_ids_beyond_int32_are_404_not_500(api: Any, kit: Any, task_id: int) -> None:
    owner = await api.user()
    for method in ("GET", "PATCH", "DELETE"):
        response = await api.client.request(
            method, f"/tasks/{task_id}", json={"title": "x"}, headers=owner.auth
        )
        assert response.status_code == 404, (method, response.text)
        assert response.json() == kit.not_found(task_id)
    comments = await api.get(owner, f"/tasks/{task_id}/comments")
    assert comments.status_code == 404
    comment = await api.client.delete(f"/comments/{task_id}", headers=owner.auth)
    assert comment.status_code == 404
    assert comment.json() == {"detail": "Comment not found"}
    file = await api.get(owner, f"/files/{task_id}")
    assert file.status_code == 404
    assert file.json() == {"detail": f"File with ID {task_id} not found"}


@pytest.mark.parametrize("raw", ["abc", "1.5", "1e3"])
async def test_non_integer_id_is_422(api: Any, raw: str) -> None:
    owner = await api.user()
    response = await api.get(owner, f"/tasks/{raw}")
    assert response.status_code == 422
    assert response.json() == {
        "detail": "task_id: Input should be a valid integer, unable to parse string as an integer",
        "errors": [
            {
                "type": "int_parsing",
                "loc": ["path", "task_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": raw,
            }
        ],
    }


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("PATCH", "/tasks/x", "task_id"),
        ("DELETE", "/tasks/x", "task_id"),
        ("GET", "/tasks/x/comments", "task_id"),
        ("PATCH", "/comments/x", "comment_id"),
        ("DELETE", "/comments/x", "comment_id"),
        ("GET", "/files/x", "file_id"),
        ("DELETE", "/files/x", "file_id"),
        ("GET", "/activity/tasks/x", "task_id"),
        ("GET", "/tasks/x/shares", "task_id"),
    ],
)
async def test_non_integer_ids_everywhere_are_422(
    api: Any, method: str, path: str, name: str
) -> None:
    owner = await api.user()
    response = await api.client.request(method, path, json={"content": "c"}, headers=owner.auth)
    assert errors_of(response) == [(["path", name], "int_parsing")]


# --------------------------------------------------------------------------- patch


async def test_patch_absent_is_not_null(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner, description="keep me", due_date="2031-02-03", tags=["a"])
    path = f"/tasks/{task['id']}"
    renamed = await api.client.patch(path, json={"title": "Renamed"}, headers=owner.auth)
    assert renamed.status_code == 200
    body = renamed.json()
    assert list(body) == TASK_KEYS
    assert body["title"] == "Renamed"
    assert body["description"] == "keep me"
    assert body["due_date"] == "2031-02-03"
    assert body["tags"] == ["a"]
    cleared = await api.client.patch(path, json={"due_date": None}, headers=owner.auth)
    assert cleared.status_code == 200
    assert cleared.json()["due_date"] is None
    assert cleared.json()["description"] == "keep me"
    no_description = await api.client.patch(path, json={"description": None}, headers=owner.auth)
    assert no_description.json()["description"] is None
    assert no_description.json()["title"] == "Renamed"


async def test_patch_all_fields_trimmed(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    response = await api.client.patch(
        f"/tasks/{task['id']}",
        json={
            "title": "  Edited  ",
            "description": "  body  ",
            "completed": True,
            "priority": "low",
            "due_date": "2029-12-31",
            "tags": [" x ", "y"],
            "user_id": 12345,
            "notes": "ignored",
        },
        headers=owner.auth,
    )
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("title", "description", "completed", "priority", "due_date")} == {
        "title": "Edited",
        "description": "body",
        "completed": True,
        "priority": "low",
        "due_date": "2029-12-31",
    }
    assert body["tags"] == ["x", "y"]
    assert body["user_id"] == owner.id
    assert body["created_at"] == task["created_at"]


@pytest.mark.parametrize("body", [{}, {"notes": "x"}, {"user_id": 3, "share_count": 1}])
async def test_patch_without_known_fields_is_400(api: Any, body: dict[str, Any]) -> None:
    owner = await api.user()
    task = await api.task(owner)
    response = await api.client.patch(f"/tasks/{task['id']}", json=body, headers=owner.auth)
    assert response.status_code == 400
    assert response.json() == NO_FIELDS


# `None` as the expected type: a `null` for a non-nullable field (D8); any type code will do.
@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        ({"title": None}, ["body", "title"], None),
        ({"completed": None}, ["body", "completed"], None),
        ({"priority": None}, ["body", "priority"], None),
        ({"tags": None}, ["body", "tags"], None),
        ({"title": "  "}, ["body", "title"], "string_too_short"),
        ({"title": ""}, ["body", "title"], "string_too_short"),
        ({"title": "t" * 201}, ["body", "title"], "string_too_long"),
        ({"description": "d" * 1001}, ["body", "description"], "string_too_long"),
        ({"priority": "urgent"}, ["body", "priority"], "literal_error"),
        ({"due_date": "2020-01-01T00:00:01"}, ["body", "due_date"], "date_from_datetime_inexact"),
        ({"tags": ["a", None]}, ["body", "tags", 1], "string_type"),
    ],
)
async def test_patch_validation(
    api: Any, body: dict[str, Any], loc: list[Any], kind: str | None
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    response = await api.client.patch(f"/tasks/{task['id']}", json=body, headers=owner.auth)
    found = errors_of(response)
    assert [where for where, _ in found] == [loc]
    if kind is not None:
        assert found[0][1] == kind
    # Nothing changed.
    assert (await api.get(owner, f"/tasks/{task['id']}")).json() == task


async def test_patch_checks_order(api: Any, kit: Any) -> None:
    owner = await api.user()
    missing = 2_147_483_100
    # 422 comes before the 404 of a missing task ...
    invalid = await api.client.patch(f"/tasks/{missing}", json={"title": ""}, headers=owner.auth)
    assert invalid.status_code == 422
    # ... and the 404 before the "no fields" 400.
    empty = await api.client.patch(f"/tasks/{missing}", json={}, headers=owner.auth)
    assert empty.status_code == 404
    assert empty.json() == kit.not_found(missing)


# --------------------------------------------------------------------------- delete


async def test_delete_then_404(api: Any, kit: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    path = f"/tasks/{task['id']}"
    response = await api.client.delete(path, headers=owner.auth)
    assert response.status_code == 204
    assert response.content == b""
    assert (await api.get(owner, path)).json() == kit.not_found(task["id"])
    again = await api.client.delete(path, headers=owner.auth)
    assert again.status_code == 404
    assert again.json() == kit.not_found(task["id"])


async def test_delete_cascades_comments_shares_files(api: Any) -> None:
    owner = await api.user()
    friend = await api.user()
    task = await api.task(owner)
    await api.share(owner, task["id"], friend, "edit")
    await api.comment(friend, task["id"])
    stored = await api.upload(owner, task["id"])
    assert (await api.client.delete(f"/tasks/{task['id']}", headers=owner.auth)).status_code == 204
    assert (await api.get(friend, "/tasks/shared-with-me")).json() == []
    gone = await api.get(owner, f"/files/{stored['id']}")
    assert gone.status_code == 404


# --------------------------------------------------------------------------- bulk


async def test_bulk_update_success(api: Any) -> None:
    owner = await api.user()
    sharer = await api.user()
    mine = await api.task(owner, priority="low")
    theirs = await api.task(sharer, priority="low")
    await api.share(sharer, theirs["id"], owner, "edit")
    response = await api.client.patch(
        "/tasks/bulk",
        json={
            "task_ids": [theirs["id"], mine["id"], mine["id"]],
            "updates": {"priority": "high", "completed": True, "title": "  Bulk  "},
        },
        headers=owner.auth,
    )
    assert response.status_code == 200
    tasks = sorted(response.json(), key=lambda t: t["id"])
    assert [t["id"] for t in tasks] == sorted([mine["id"], theirs["id"]])
    for task in tasks:
        assert list(task) == TASK_KEYS
        assert (task["priority"], task["completed"], task["title"]) == ("high", True, "Bulk")
    assert {t["id"]: t["share_count"] for t in tasks} == {mine["id"]: 0, theirs["id"]: 1}


async def test_bulk_validation(api: Any) -> None:
    owner = await api.user()
    response = await api.client.patch(
        "/tasks/bulk", json={"task_ids": [], "updates": {"completed": True}}, headers=owner.auth
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "type": "too_short",
            "loc": ["body", "task_ids"],
            "msg": "List should have at least 1 item after validation, not 0",
            "input": [],
            "ctx": {"field_type": "List", "min_length": 1, "actual_length": 0},
        }
    ]
    nested = await api.client.patch(
        "/tasks/bulk", json={"task_ids": [1], "updates": {"priority": "urgent"}}, headers=owner.auth
    )
    assert errors_of(nested) == [(["body", "updates", "priority"], "literal_error")]
    missing = await api.client.patch("/tasks/bulk", json={"task_ids": [1]}, headers=owner.auth)
    assert errors_of(missing) == [(["body", "updates"], "missing")]
    bad_ids = await api.client.patch(
        "/tasks/bulk", json={"task_ids": ["x"], "updates": {"completed": True}}, headers=owner.auth
    )
    assert errors_of(bad_ids) == [(["body", "task_ids", 0], "int_parsing")]


async def test_bulk_no_fields_is_400(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    for updates in ({}, {"notes": "x"}):
        response = await api.client.patch(
            "/tasks/bulk", json={"task_ids": [task["id"]], "updates": updates}, headers=owner.auth
        )
        assert response.status_code == 400
        assert response.json() == NO_FIELDS


async def test_bulk_missing_ids_listed_in_request_order(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    first, second = 2_147_483_600, 2_147_483_599
    response = await api.client.patch(
        "/tasks/bulk",
        json={"task_ids": [first, task["id"], second, first], "updates": {"completed": True}},
        headers=owner.auth,
    )
    assert response.status_code == 404
    assert response.json() == {"detail": f"Tasks not found: [{first}, {second}]"}
    assert (await api.get(owner, f"/tasks/{task['id']}")).json()["completed"] is False


@pytest.mark.parametrize("relation", ["stranger", "view"])
async def test_bulk_is_all_or_nothing(api: Any, kit: Any, relation: str) -> None:
    owner = await api.user()
    other = await api.user()
    mine = await api.task(owner)
    theirs = await api.task(other)
    if relation == "view":
        await api.share(other, theirs["id"], owner, "view")
    response = await api.client.patch(
        "/tasks/bulk",
        json={"task_ids": [mine["id"], theirs["id"]], "updates": {"title": "Changed"}},
        headers=owner.auth,
    )
    assert response.status_code == 403
    assert response.json() == kit.forbidden
    assert (await api.get(owner, f"/tasks/{mine['id']}")).json()["title"] == mine["title"]
    assert (await api.get(other, f"/tasks/{theirs['id']}")).json()["title"] == theirs["title"]


# --------------------------------------------------------------------------- tags


async def test_add_tags_appends_new_ones_in_order(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner, tags=["home"])
    path = f"/tasks/{task['id']}/tags"
    response = await api.client.post(
        path, json=["urgent", "home", "urgent", "later"], headers=owner.auth
    )
    assert response.status_code == 200
    body = response.json()
    assert list(body) == TASK_KEYS
    assert body["tags"] == ["home", "urgent", "later"]
    unchanged = await api.client.post(path, json=[], headers=owner.auth)
    assert unchanged.status_code == 200
    assert unchanged.json()["tags"] == ["home", "urgent", "later"]


async def test_add_tags_needs_a_bare_array(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    path = f"/tasks/{task['id']}/tags"
    response = await api.client.post(path, json={"tags": ["a"]}, headers=owner.auth)
    assert response.status_code == 422
    error = response.json()["errors"]
    assert [(e["type"], e["loc"]) for e in error] == [("list_type", ["body"])]
    assert error[0]["msg"] == "Input should be a valid list"
    items = await api.client.post(path, json=["ok", 3], headers=owner.auth)
    assert errors_of(items) == [(["body", 1], "string_type")]


async def test_add_tags_to_missing_task(api: Any, kit: Any) -> None:
    owner = await api.user()
    response = await api.client.post("/tasks/2147483001/tags", json=["a"], headers=owner.auth)
    assert response.status_code == 404
    assert response.json() == kit.not_found(2147483001)


async def test_remove_tag(api: Any, kit: Any) -> None:
    owner = await api.user()
    task = await api.task(owner, tags=["a b", "x", "a b"])
    response = await api.client.delete(f"/tasks/{task['id']}/tags/a%20b", headers=owner.auth)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == TASK_KEYS
    assert body["tags"] == ["x", "a b"]
    missing = await api.client.delete(f"/tasks/{task['id']}/tags/nope", headers=owner.auth)
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "Tag Not Found",
        "message": f"Tag 'nope' not found on task {task['id']}",
        "task_id": task["id"],
        "tag": "nope",
    }
    case = await api.client.delete(f"/tasks/{task['id']}/tags/X", headers=owner.auth)
    assert case.status_code == 404
    no_task = await api.client.delete("/tasks/2147483002/tags/x", headers=owner.auth)
    assert no_task.json() == kit.not_found(2147483002)

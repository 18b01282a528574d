"""The document's examples (issue #16 item 1): present, valid against their schemas, and real.

Every operation with a JSON request body shows one, every JSON success answer shows one; every
example in the served document validates against the schema it illustrates (so the examples
cannot drift from the types), and a walk through the examples' story on the running server
gets answers with the examples' keys and value types, and the very 422 bodies they show.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from litestar import Litestar

from faros.entrypoints.http.openapi_document import STEPS
from faros.entrypoints.http.openapi_examples import EXAMPLES, attach_examples, placements

JSON = "application/json"
Document = dict[str, Any]


@pytest.fixture(scope="module")
async def document(app: Litestar, kit: Any) -> Document:
    async with kit.new_client(app) as http:
        response = await http.get("/openapi.json")
        assert response.status_code == 200
        body: Document = response.json()
        return body


def operations(document: Document) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


def examples_of(media: dict[str, Any]) -> list[Any]:
    if "example" in media:
        return [media["example"]]
    return [item["value"] for item in media.get("examples", {}).values()]


def example(document: Document, operation_id: str, status: str, name: str = "") -> Any:
    """The example of an answer, or the request's (`status="request"`), by its name if several."""
    operation = operations(document)[operation_id]
    if status == "request":
        media = operation["requestBody"]["content"][JSON]
    else:
        media = operation["responses"][status]["content"][JSON]
    if name:
        return media["examples"][name]["value"]
    # The Idempotency-Key answers (openapi_idempotency.py) sit beside the route's own example.
    own = {k: v for k, v in media.get("examples", {}).items() if not k.startswith("idempotency_")}
    found = examples_of({**media, "examples": own})
    assert len(found) == 1, f"{operation_id} {status}: name one of {len(found)} examples"
    return found[0]


def every_media(document: Document) -> list[tuple[str, dict[str, Any]]]:
    """Every media type of every request body and answer, with where it is."""
    found = []
    for operation_id, operation in operations(document).items():
        for media_type, media in (operation.get("requestBody") or {}).get("content", {}).items():
            found.append((f"{operation_id} request {media_type}", media))
        for status, response in operation["responses"].items():
            for media_type, media in (response.get("content") or {}).items():
                found.append((f"{operation_id} {status} {media_type}", media))
    return found


# --- presence ---------------------------------------------------------------------------------


def test_the_finishing_step_is_registered() -> None:
    assert attach_examples in STEPS


async def test_both_document_urls_serve_the_examples(app: Litestar, kit: Any) -> None:
    async with kit.new_client(app) as http:
        served = (await http.get("/openapi.json")).json()
        under_docs = (await http.get("/docs/openapi.json")).json()
    assert under_docs == served
    assert example(served, "create_task", "request", "minimal") == {
        "title": "Write the quarterly report"
    }


def test_every_json_request_body_has_an_example(document: Document) -> None:
    missing = [
        operation_id
        for operation_id, operation in operations(document).items()
        if JSON in (operation.get("requestBody") or {}).get("content", {})
        and not examples_of(operation["requestBody"]["content"][JSON])
    ]
    assert missing == []


def test_every_json_success_answer_has_an_example(document: Document) -> None:
    missing = [
        f"{operation_id} {status}"
        for operation_id, operation in operations(document).items()
        for status, response in operation["responses"].items()
        if status.startswith("2")
        and JSON in (response.get("content") or {})
        and not examples_of(response["content"][JSON])
    ]
    assert missing == []


def test_every_entry_of_the_table_lands_in_the_document(document: Document) -> None:
    """An entry naming a status or body the operation lacks would silently show nothing."""
    assert set(EXAMPLES) <= set(operations(document))
    assert [entry for entry in placements(document) if not entry[3]] == []


def test_several_examples_carry_summaries(document: Document) -> None:
    media = operations(document)["create_task"]["requestBody"]["content"][JSON]
    assert set(media["examples"]) == {"full", "minimal"}
    assert all(item["summary"] for item in media["examples"].values())
    conflict = operations(document)["register"]["responses"]["409"]["content"][JSON]
    assert [item["summary"] for item in conflict["examples"].values()] == [
        "The username or e-mail address is taken"
    ]
    success = operations(document)["get_task"]["responses"]["200"]["content"][JSON]
    assert "examples" not in success
    assert success["example"]["id"] == 42


# --- validity ---------------------------------------------------------------------------------


def validator(document: Document, schema: dict[str, Any]) -> Draft202012Validator:
    """OpenAPI 3.1 schemas are JSON Schema 2020-12; `#/components/...` resolves in the root."""
    root = {**schema, "components": document.get("components", {})}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_the_check_refuses_an_example_that_breaks_its_schema(document: Document) -> None:
    schema = operations(document)["get_task"]["responses"]["200"]["content"][JSON]["schema"]
    task = example(document, "get_task", "200")
    check = validator(document, schema)
    assert check.is_valid(task)
    assert not check.is_valid({**task, "priority": "urgent"})
    assert not check.is_valid({**task, "created_at": "2026-12-01 09:30"})
    assert not check.is_valid({key: value for key, value in task.items() if key != "tags"})


def test_every_example_validates_against_its_schema(document: Document) -> None:
    checked = 0
    failures = []
    for where, media in every_media(document):
        if "schema" not in media:
            continue
        check = validator(document, media["schema"])
        for value in examples_of(media):
            checked += 1
            failures += [f"{where}: {error.message}" for error in check.iter_errors(value)]
    assert failures == []
    assert checked >= 100


def test_schema_level_examples_validate_too(document: Document) -> None:
    """Examples declared on named schemas (if any) hold to their own schema."""
    failures = []
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        check = validator(document, schema)
        for value in schema.get("examples", []):
            failures += [f"{name}: {error.message}" for error in check.iter_errors(value)]
    assert failures == []


# --- the real server ----------------------------------------------------------------------------


# Objects whose keys are data (counts by tag, an activity's details), not fields.
MAPS = {"by_priority", "by_tag", "by_action", "by_resource", "details"}


def same_shape(real: Any, shown: Any, where: str = "") -> list[str]:
    """Where `real` differs from `shown` in keys or JSON value types (lists pairwise)."""
    if isinstance(shown, dict):
        if not isinstance(real, dict):
            return [f"{where}: {type(real).__name__}, not an object"]
        is_map = where.rsplit(".", 1)[-1] in MAPS
        if not is_map and set(real) != set(shown):
            return [f"{where}: keys {sorted(real)} != {sorted(shown)}"]
        return [
            difference
            for key in shown
            if key in real
            for difference in same_shape(real[key], shown[key], f"{where}.{key}")
        ]
    if isinstance(shown, list):
        if not isinstance(real, list):
            return [f"{where}: {type(real).__name__}, not a list"]
        return [
            difference
            for index, (one, other) in enumerate(zip(real, shown, strict=False))
            for difference in same_shape(one, other, f"{where}[{index}]")
        ]
    kinds = (bool, int, float, str, type(None))
    shown_kind = next(kind for kind in kinds if isinstance(shown, kind))
    if not isinstance(real, shown_kind) or (shown_kind is int and isinstance(real, bool)):
        return [f"{where}: {real!r} is not a {shown_kind.__name__} like {shown!r}"]
    return []


def test_same_shape_sees_a_difference() -> None:
    assert same_shape({"a": 1, "b": [None]}, {"a": 2, "b": [None]}) == []
    assert same_shape({"a": True}, {"a": 2}) != []
    assert same_shape({"a": 1}, {"a": 1, "b": 2}) != []
    assert same_shape([{"a": "x"}], [{"a": None}]) != []
    assert same_shape({"by_tag": {"q4": 1}}, {"by_tag": {"work": 2}}) == []
    assert same_shape({"by_tag": {"work": "2"}}, {"by_tag": {"work": 2}}) != []


class Walk:
    """Checks each answer of the story against the document's example for it."""

    def __init__(self, document: Document) -> None:
        self.document = document

    def answer(self, operation_id: str, status: str, response: httpx.Response) -> Any:
        assert response.status_code == int(status), response.text
        body = response.json()
        assert same_shape(body, example(self.document, operation_id, status)) == []
        return body

    def request(self, operation_id: str, name: str = "") -> Any:
        return example(self.document, operation_id, "request", name)


async def test_the_story_of_the_examples_runs_on_the_server(
    document: Document, api: Any, client: httpx.AsyncClient
) -> None:
    walk = Walk(document)
    alice, bob = await api.user("alice"), await api.user("bob")

    full = walk.request("create_task", "full")
    task = walk.answer(
        "create_task", "201", await client.post("/tasks", json=full, headers=alice.auth)
    )
    shown = example(document, "create_task", "201")
    ignored = {"id", "user_id", "created_at"}
    assert {k: v for k, v in task.items() if k not in ignored} == {
        k: v for k, v in shown.items() if k not in ignored
    }
    minimal = await client.post(
        "/tasks", json=walk.request("create_task", "minimal"), headers=alice.auth
    )
    assert minimal.status_code == 201
    assert minimal.json()["priority"] == "medium"
    task_path = f"/tasks/{task['id']}"

    share = walk.request("share_task") | {"shared_with_username": bob.username}
    walk.answer(
        "share_task", "201", await client.post(f"{task_path}/share", json=share, headers=alice.auth)
    )
    comment = walk.answer(
        "add_comment",
        "201",
        await client.post(
            f"{task_path}/comments", json=walk.request("add_comment"), headers=bob.auth
        ),
    )
    edited = walk.answer(
        "edit_comment",
        "200",
        await client.patch(
            f"/comments/{comment['id']}", json=walk.request("edit_comment"), headers=bob.auth
        ),
    )
    assert edited["content"] == example(document, "edit_comment", "200")["content"]
    walk.answer(
        "update_task",
        "200",
        await client.patch(
            task_path, json=walk.request("update_task", "complete"), headers=bob.auth
        ),
    )
    changed = walk.answer(
        "change_share",
        "200",
        await client.put(
            f"{task_path}/share/{bob.username}",
            json=walk.request("change_share"),
            headers=alice.auth,
        ),
    )
    assert changed["permission"] == "view"
    tagged = walk.answer(
        "add_tags",
        "200",
        await client.post(f"{task_path}/tags", json=walk.request("add_tags"), headers=alice.auth),
    )
    assert tagged["tags"] == example(document, "add_tags", "200")["tags"]
    walk.answer(
        "upload_file",
        "201",
        await client.post(
            f"{task_path}/files",
            files={"file": ("report.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
            headers=alice.auth,
        ),
    )
    walk.answer(
        "upload_avatar",
        "200",
        await client.post(
            "/users/me/avatar",
            files={"file": ("me.png", b"\x89PNG\r\n\x1a\n" + bytes(32), "image/png")},
            headers=alice.auth,
        ),
    )
    walk.answer("profile", "200", await client.get("/users/me", headers=alice.auth))

    for operation_id, path, who in [
        ("get_task", task_path, alice),
        ("list_tasks", "/tasks", alice),
        ("list_shares", f"{task_path}/shares", alice),
        ("list_comments", f"{task_path}/comments", alice),
        ("list_files", f"{task_path}/files", alice),
        ("shared_with_me", "/tasks/shared-with-me", bob),
        ("task_stats", "/tasks/stats", alice),
        ("activity_stats", "/activity/stats", alice),
    ]:
        walk.answer(operation_id, "200", await client.get(path, headers=who.auth))

    for operation_id, path in [
        ("activity_feed", "/activity"),
        ("task_timeline", f"/activity/tasks/{task['id']}"),
    ]:
        response = await client.get(path, headers=alice.auth)
        assert response.status_code == 200
        entries, shown_entries = response.json(), example(document, operation_id, "200")
        assert {frozenset(entry) for entry in entries} == {
            frozenset(entry) for entry in shown_entries
        }

    walk.answer(
        "bulk_update",
        "200",
        await client.patch(
            "/tasks/bulk",
            json=walk.request("bulk_update") | {"task_ids": [task["id"], minimal.json()["id"]]},
            headers=alice.auth,
        ),
    )
    walk.answer(
        "update_preferences",
        "200",
        await client.patch(
            "/notifications/preferences",
            json=walk.request("update_preferences"),
            headers=alice.auth,
        ),
    )
    walk.answer(
        "get_preferences",
        "200",
        await client.get("/notifications/preferences", headers=alice.auth),
    )
    walk.answer(
        "change_password",
        "200",
        await client.patch(
            "/users/me/change-password",
            json=walk.request("change_password") | {"current_password": alice.password},
            headers=alice.auth,
        ),
    )


# The 422 examples are the server's own bodies for the inputs they show, word for word.
INVALID = [
    (
        "register",
        "POST",
        "/auth/register",
        {"json": {"username": "al", "email": "alice@example.com", "password": "short"}},
    ),
    ("login", "POST", "/auth/login", {"json": {"username": "alice"}}),
    ("request_password_reset", "POST", "/auth/password-reset/request", {"json": {}}),
    (
        "verify_password_reset",
        "POST",
        "/auth/password-reset/verify",
        {"json": {"token": "t", "new_password": "hunter2"}},
    ),
    ("verify_by_post", "POST", "/notifications/verify", {"json": {}}),
    ("verify_by_link", "GET", "/notifications/verify", {}),
    ("create_task", "POST", "/tasks", {"json": {"title": "   ", "priority": "urgent"}}),
    (
        "bulk_update",
        "PATCH",
        "/tasks/bulk",
        {"json": {"task_ids": [42], "updates": {"priority": "urgent"}}},
    ),
    ("list_tasks", "GET", "/tasks", {"params": {"limit": "0"}}),
    ("get_task", "GET", "/tasks/forty-two", {}),
    ("update_task", "PATCH", "/tasks/{task}", {"json": {"priority": "urgent"}}),
    ("add_tags", "POST", "/tasks/{task}/tags", {"json": {"tags": ["q4"]}}),
    (
        "share_task",
        "POST",
        "/tasks/{task}/share",
        {"json": {"shared_with_username": "bob", "permission": "admin"}},
    ),
    ("change_share", "PUT", "/tasks/{task}/share/bob", {"json": {"permission": "admin"}}),
    ("add_comment", "POST", "/tasks/{task}/comments", {"json": {"content": ""}}),
    (
        "update_preferences",
        "PATCH",
        "/notifications/preferences",
        {"json": {"task_completed": None}},
    ),
    (
        "change_password",
        "PATCH",
        "/users/me/change-password",
        {"json": {"current_password": "x", "new_password": "hunter2"}},
    ),
    ("search_users", "GET", "/users/search", {"params": {"query": ""}}),
]


@pytest.mark.parametrize(("operation_id", "method", "path", "sent"), INVALID)
async def test_a_422_example_is_the_server_s_answer(
    document: Document,
    api: Any,
    client: httpx.AsyncClient,
    operation_id: str,
    method: str,
    path: str,
    sent: dict[str, Any],
) -> None:
    alice = await api.user("alice")
    task = await api.task(alice)
    response = await client.request(
        method, path.format(task=task["id"]), headers=alice.auth, **sent
    )
    assert response.status_code == 422
    assert response.json() == example(document, operation_id, "422")


def test_the_family_a_examples_are_the_suite_s_bodies(document: Document, kit: Any) -> None:
    assert example(document, "get_task", "404") == kit.not_found(404)
    assert example(document, "get_task", "403") == kit.forbidden
    assert example(document, "list_tasks", "401") == kit.not_authenticated

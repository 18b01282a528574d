"""Issue #16: the document states the input rules the server applies, no wider and no narrower.

Text trimmed before its length is checked (D8) is documented by a pattern over the value as sent,
checked here against the server's answers; empty tags are kept as the contract says (§2.3, §3.3);
a PATCH body naming no field is documented with `minProperties: 1` and answered 400; query
parameters and body fields are documented with their canonical types only.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

TAG_51_WITH_SPACE = " " + "*" * 50
TAG_51 = "*" * 51
BLANK_TAGS = ["", "   ", "\t\u3000"]


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, name = node["$ref"].split("/")
        node = document["components"]["schemas"][name]
    return node


def _body(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    operation = document["paths"][path][method]
    return _resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])


def _string_schema(node: dict[str, Any]) -> dict[str, Any]:
    """The string branch of a property (`anyOf` string | null for the nullable ones)."""
    strings = [n for n in node.get("anyOf", [node]) if n.get("type") == "string"]
    assert len(strings) == 1, node
    return strings[0]


def _documented_valid(schema: dict[str, Any], text: str) -> bool:
    """What a JSON Schema validator says of `text` (the keywords these strings use)."""
    assert set(schema) <= {"type", "minLength", "maxLength", "pattern", "description"}, schema
    if len(text) < schema.get("minLength", 0) or len(text) > schema.get("maxLength", len(text)):
        return False
    pattern = schema.get("pattern")
    # ECMA-262's `$` is the end of the text; Python's also matches before a final newline.
    return pattern is None or re.fullmatch(pattern.removesuffix("$"), text) is not None


SAMPLES = [
    "x",
    "",
    " ",
    "   ",
    "\t",
    "\u3000",
    " padded ",
    "\u00a0nbsp\u00a0",
    "in ner",
    "tab\tinside",
    "line\nbreak",
    "line\r\nbreak",
    "edge\n",
    "\r\nedge",
    "lone\rcr",
    "bell\x07",
    "sep\u2028arator",
    "zero\u200bwidth",
    "emoji \U0001f600",
    "*" * 50,
    TAG_51_WITH_SPACE,
    TAG_51,
    "\u3000" + "*" * 50 + "\t",
    "t" * 199,
    "t" * 200,
    "t" * 201,
    "  " + "t" * 200 + "  ",
    "d" * 1000,
    "d" * 1001,
    "\n" + "d" * 1000 + "\r\n",
]


@pytest.mark.every_backend
@pytest.mark.parametrize("field", ["title", "description", "tag"])
async def test_the_documented_text_rules_are_the_servers(
    api: Any, client: httpx.AsyncClient, field: str
) -> None:
    owner = await api.user("doc")
    document = await _document(client)
    properties = _body(document, "post", "/tasks")["properties"]
    if field == "tag":
        schema = _string_schema(properties["tags"]["items"])
    else:
        schema = _string_schema(properties[field])
    disagreements = []
    for text in SAMPLES:
        body: dict[str, Any] = {"title": "t"}
        if field == "tag":
            body["tags"] = [text]
        else:
            body[field] = text
        response = await client.post("/tasks", json=body, headers=owner.auth)
        assert response.status_code in (201, 422), response.text
        if (response.status_code == 201) != _documented_valid(schema, text):
            disagreements.append((text, response.status_code))
        if response.status_code == 201:
            stored = response.json()["tags"][0] if field == "tag" else response.json()[field]
            assert stored == text.strip()
    assert not disagreements


@pytest.mark.every_backend
async def test_a_tag_counts_its_length_after_trimming_on_every_route(
    api: Any, client: httpx.AsyncClient
) -> None:
    owner = await api.user("tag")
    task = await api.task(owner)
    url = f"/tasks/{task['id']}"
    writes = [
        ("POST", "/tasks", lambda tags: {"title": "t", "tags": tags}),
        ("PATCH", url, lambda tags: {"tags": tags}),
        (
            "PATCH",
            "/tasks/bulk",
            lambda tags: {"task_ids": [task["id"]], "updates": {"tags": tags}},
        ),
        ("POST", f"{url}/tags", lambda tags: tags),
    ]
    for method, path, body in writes:
        accepted = await client.request(
            method, path, json=body([TAG_51_WITH_SPACE]), headers=owner.auth
        )
        assert accepted.status_code in (200, 201), (path, accepted.text)
        answer = accepted.json()
        tags = (answer[0] if isinstance(answer, list) else answer)["tags"]
        assert "*" * 50 in tags, (path, tags)

        refused = await client.request(method, path, json=body([TAG_51]), headers=owner.auth)
        assert refused.status_code == 422, (path, refused.text)
        (item,) = refused.json()["errors"]
        assert item["type"] == "string_too_long"
        assert item["loc"][-1] == 0
        assert item["input"] == TAG_51


@pytest.mark.every_backend
async def test_blank_tags_are_kept_as_empty_tags_on_every_route(
    api: Any, client: httpx.AsyncClient
) -> None:
    # API.md §2.3 and §3.3: tags "may contain duplicates and empty strings", and the original
    # clients send `""` for an empty tag input; whitespace trims to it (D8).
    owner = await api.user("blank")
    created = await client.post(
        "/tasks", json={"title": "t", "tags": BLANK_TAGS}, headers=owner.auth
    )
    assert created.status_code == 201, created.text
    assert created.json()["tags"] == ["", "", ""]
    task_id = created.json()["id"]

    patched = await client.patch(
        f"/tasks/{task_id}", json={"tags": ["a", *BLANK_TAGS]}, headers=owner.auth
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["tags"] == ["a", "", "", ""]

    bulk = await client.patch(
        "/tasks/bulk",
        json={"task_ids": [task_id], "updates": {"tags": ["   "]}},
        headers=owner.auth,
    )
    assert bulk.status_code == 200, bulk.text
    assert bulk.json()[0]["tags"] == [""]

    added = await client.post(f"/tasks/{task_id}/tags", json=["b", " \t "], headers=owner.auth)
    assert added.status_code == 200, added.text
    assert added.json()["tags"] == ["", "b"]  # "" was there already

    document = await _document(client)
    for method, path in [("post", "/tasks"), ("patch", "/tasks/{task_id}")]:
        items = _body(document, method, path)["properties"]["tags"]["items"]
        assert all(_documented_valid(items, tag) for tag in BLANK_TAGS)
    items = _body(document, "post", "/tasks/{task_id}/tags")["items"]
    assert all(_documented_valid(items, tag) for tag in BLANK_TAGS)


@pytest.mark.every_backend
async def test_a_patch_naming_no_field_is_a_documented_400(
    api: Any, client: httpx.AsyncClient
) -> None:
    owner = await api.user("empty")
    task = await api.task(owner)
    for path, body in [
        (f"/tasks/{task['id']}", {}),
        (f"/tasks/{task['id']}", {"unknown": 1}),
        ("/tasks/bulk", {"task_ids": [task["id"]], "updates": {}}),
    ]:
        response = await client.patch(path, json=body, headers=owner.auth)
        assert response.status_code == 400, (path, response.text)
        assert response.json() == {"detail": "No fields provided for update"}

    document = await _document(client)
    single = _body(document, "patch", "/tasks/{task_id}")
    bulk = _body(document, "patch", "/tasks/bulk")
    assert single["minProperties"] == 1
    assert _resolve(document, bulk["properties"]["updates"])["minProperties"] == 1
    for path in ("/tasks/{task_id}", "/tasks/bulk"):
        assert "400" in document["paths"][path]["patch"]["responses"]


async def test_an_empty_preferences_update_is_valid_and_documented_so(
    api: Any, client: httpx.AsyncClient
) -> None:
    # API.md §3.7: `{}` changes nothing and answers 200, so it carries no minProperties.
    owner = await api.user("prefs")
    response = await client.patch("/notifications/preferences", json={}, headers=owner.auth)
    assert response.status_code == 200, response.text
    document = await _document(client)
    assert "minProperties" not in _body(document, "patch", "/notifications/preferences")


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


async def test_inputs_are_documented_with_their_canonical_types_only(
    client: httpx.AsyncClient,
) -> None:
    document = await _document(client)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = _resolve(document, parameter["schema"])
                assert not {"anyOf", "oneOf"} & set(schema), (path, parameter)
                assert schema.get("type") in ("string", "integer", "boolean"), (path, parameter)
            if "requestBody" not in operation:
                continue
            for media in operation["requestBody"]["content"].values():
                for node in _walk(_resolve(document, media["schema"])):
                    for choice in ("anyOf", "oneOf"):
                        others = [n for n in node.get(choice, []) if n != {"type": "null"}]
                        assert len(others) <= 1, (method, path, node)
    listing = {p["name"]: p["schema"] for p in document["paths"]["/tasks"]["get"]["parameters"]}
    assert listing["completed"] == {"type": "boolean"}
    assert listing["due_before"] == {"type": "string", "format": "date"}
    activity = {p["name"]: p["schema"] for p in document["paths"]["/activity"]["get"]["parameters"]}
    assert activity["end_date"] == {"type": "string", "format": "date-time"}
    created = _body(document, "post", "/tasks")["properties"]
    assert created["completed"]["type"] == "boolean"
    assert _string_schema(created["due_date"])["format"] == "date"


async def test_activity_dates_the_document_refuses_the_server_refuses(
    api: Any, client: httpx.AsyncClient
) -> None:
    owner = await api.user("when")
    for value in ["2.2250738585e-313", "0", "1733400000", "true", "yesterday"]:
        response = await api.get(owner, "/activity", params={"end_date": value})
        assert response.status_code == 422, (value, response.text)
        assert response.json()["errors"][0]["loc"] == ["query", "end_date"]
    for value in ["2026-12-05T10:00:00Z", "2026-12-05T10:00:00.5+01:00", "2026-12-05T10:00:00z"]:
        response = await api.get(owner, "/activity", params={"end_date": value})
        assert response.status_code == 200, (value, response.text)
    # Lenient, not advertised: the original clients' date-only values and query words.
    assert (await api.get(owner, "/activity", params={"start_date": "2026-12-05"})).is_success
    assert (await api.get(owner, "/tasks", params={"completed": "yes"})).is_success

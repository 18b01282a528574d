"""The served OpenAPI document names its shapes (issue #16 item 2).

Every request body, error body and enum is one named component, referenced by `$ref` wherever
it appears, so a generated client has one type per shape: one `ValidationError` to handle 422
once, one `Priority` that a `TaskOut` and a `TaskUpdateIn` share. No schema is empty.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

REF = "#/components/schemas/"
# The two upload bodies are one multipart part each (openapi.py `MultipartUpload`).
MULTIPART = "multipart/form-data"
ENUMS = {
    "Priority": ["low", "medium", "high"],
    "SharePermission": ["view", "edit"],
    "SortField": ["id", "title", "priority", "completed", "created_at", "due_date"],
    "SortOrder": ["asc", "desc"],
    "DuplicateField": ["username", "email"],
}


@pytest.fixture(scope="module")
async def document(app: Litestar, kit: Any) -> dict[str, Any]:
    async with kit.new_client(app) as http:
        response = await http.get("/openapi.json")
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body


def _schemas(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    """Every schema object under `node`: `schema` values and what nests in them."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}/{key}"
            if key in {"schema", "items", "additionalProperties", "not"}:
                yield here, value
            elif key == "properties" and isinstance(value, dict):
                yield from ((f"{here}/{name}", sub) for name, sub in value.items())
            elif key in {"oneOf", "anyOf", "allOf"} and isinstance(value, list):
                yield from ((f"{here}[{i}]", sub) for i, sub in enumerate(value))
            yield from _schemas(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _schemas(item, f"{where}[{index}]")


def _is_inline_shape(schema: Any) -> bool:
    """An object, a union or an enum written out in place instead of referenced."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return False
    shapes = ("properties", "oneOf", "anyOf", "enum")
    return schema.get("type") == "object" or any(key in schema for key in shapes)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(ref := node.get("$ref"), str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


async def test_paths_write_no_object_union_or_enum_inline(document: dict[str, Any]) -> None:
    inline = [
        where
        for where, schema in _schemas(document["paths"])
        if _is_inline_shape(schema) and f"/{MULTIPART}/schema" not in where
    ]
    assert inline == []


async def test_no_schema_is_empty(document: dict[str, Any]) -> None:
    empty = [where for where, schema in _schemas(document) if schema == {}]
    assert empty == []


async def test_every_reference_resolves(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for ref in _refs(document):
        assert ref.startswith(REF), ref
        assert ref.removeprefix(REF) in schemas, ref


async def test_component_titles_are_their_names(document: dict[str, Any]) -> None:
    # Generators name a class after a schema's title: two components of one title would be
    # two classes of one name (openapi-python-client drops such an operation).
    for name, schema in document["components"]["schemas"].items():
        assert schema.get("title", name) == name, name
    for name in document["components"]["schemas"]:
        assert not name.endswith("Body") or not name.removesuffix("Body").endswith("In"), name


async def test_enums_are_components_in_declared_order(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name, values in ENUMS.items():
        assert schemas[name]["enum"] == values, name
        assert schemas[name]["type"] == "string", name
    elsewhere = [
        where
        for where, schema in _schemas(document)
        if isinstance(schema, dict) and "enum" in schema
    ]
    assert elsewhere == []


def _property(document: dict[str, Any], component: str, name: str) -> Any:
    return document["components"]["schemas"][component]["properties"][name]


def _named(schema: dict[str, Any]) -> set[str]:
    """The component(s) a property refers to (directly, or through `allOf`/`anyOf`)."""
    return {ref.removeprefix(REF) for ref in _refs(schema)}


async def test_one_priority_everywhere(document: dict[str, Any]) -> None:
    for component in ("TaskOut", "TaskCreateIn", "TaskUpdateIn"):
        assert _named(_property(document, component, "priority")) == {"Priority"}, component
    parameters = {p["name"]: p for p in document["paths"]["/tasks"]["get"]["parameters"]}
    assert parameters["priority"]["schema"] == {"$ref": f"{REF}Priority"}
    assert parameters["sort_by"]["schema"] == {"$ref": f"{REF}SortField"}
    assert _named(parameters["sort_order"]["schema"]) == {"SortOrder"}
    for component in ("ShareIn", "SharePermissionIn", "ShareOut", "SharedTaskOut"):
        assert _named(_property(document, component, "permission")) == {"SharePermission"}


async def test_request_bodies_are_their_structs(document: dict[str, Any]) -> None:
    patch = document["paths"]["/tasks/{task_id}"]["patch"]["requestBody"]
    assert patch["content"]["application/json"]["schema"] == {"$ref": f"{REF}TaskUpdateIn"}
    post = document["paths"]["/tasks"]["post"]["requestBody"]
    assert post["content"]["application/json"]["schema"] == {"$ref": f"{REF}TaskCreateIn"}
    # The bulk update's `updates` is the same component as a single update's body.
    assert _property(document, "BulkUpdateIn", "updates") == {"$ref": f"{REF}TaskUpdateIn"}


async def test_every_422_is_the_validation_error(document: dict[str, Any]) -> None:
    answers = [
        operation["responses"]["422"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "422" in operation.get("responses", {})
    ]
    assert len(answers) > 30
    for answer in answers:
        assert answer["content"]["application/json"]["schema"] == {"$ref": f"{REF}ValidationError"}
    body = document["components"]["schemas"]["ValidationError"]
    assert body["properties"]["errors"]["minItems"] == 1
    assert body["properties"]["errors"]["items"] == {"$ref": f"{REF}ValidationErrorItem"}
    item = document["components"]["schemas"]["ValidationErrorItem"]
    assert item["properties"]["ctx"]["type"] == "object"
    assert "null" in item["properties"]["input"]["type"]


async def test_either_answers_are_named_unions(document: dict[str, Any]) -> None:
    forbidden = document["paths"]["/tasks/{task_id}"]["patch"]["responses"]["403"]
    assert forbidden["content"]["application/json"]["schema"] == {
        "$ref": f"{REF}ForbiddenOrRefused"
    }
    assert document["components"]["schemas"]["ForbiddenOrRefused"]["oneOf"] == [
        {"$ref": f"{REF}TaskForbiddenBody"},
        {"$ref": f"{REF}Detail"},
    ]


GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.mark.skipif(not GENERATOR.exists(), reason="openapi-python-client is not installed")
async def test_the_python_client_generates_without_losing_json_operations(
    document: dict[str, Any], tmp_path: Path
) -> None:
    source = tmp_path / "openapi.json"
    source.write_text(json.dumps(document))
    arguments = ["generate", "--path", str(source), "--meta", "none"]
    process = await asyncio.create_subprocess_exec(
        str(GENERATOR),
        *arguments,
        "--output-path",
        str(tmp_path / "client"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    text = output.decode()
    assert process.returncode == 0, text
    # Warnings name what was dropped; only the binary downloads (another part of #16) may be.
    warnings = [block for block in text.split("\n\n") if "WARNING" in block]
    assert all("GET /files/{file_id}" in w or "GET /users/{user_id}" in w for w in warnings), (
        warnings
    )
    assert "duplicate" not in text.lower()
    assert "Unable to process schema" not in text
    assert (tmp_path / "client" / "models" / "validation_error.py").exists()

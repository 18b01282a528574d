"""The OpenAPI document describes every route of the app, with its real answers (issue #8).

Route by route: the path and each method are in the document (unless deliberately hidden),
every route declares its error answers on its decorator, protected operations declare the
bearer and cookie schemes and their 401, and every operation that reads a body documents 413
and 422.
That the documented shapes match what the app really sends is schemathesis's job
(tests/fuzz).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from faros.entrypoints.http.app import ROUTERS
from faros.entrypoints.http.deps import authenticated
from faros.entrypoints.http.openapi import TAGS

# Served but deliberately left out of the document: the browser's icon, the document itself
# and the documentation UI.
HIDDEN = {"GET /favicon.ico", "GET /openapi.json"}
DOCS_UI = re.compile(r"^GET /docs(/|$)")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


# The only documented routes that cannot fail: they read nothing and depend on nothing.
CANNOT_FAIL = {"GET /", "GET /version"}


def route_key(method: str, path: str) -> str:
    """`"GET /tasks/{task_id}"` from a Litestar route path such as `/tasks/{task_id:str}`."""
    parts = []
    for segment in path.split("/"):
        if segment.startswith("{") and ":" in segment:
            segment = segment.split(":", 1)[0] + "}"
        parts.append(segment)
    return f"{method.upper()} {'/'.join(parts) or '/'}"


def _operations(app: Litestar) -> list[tuple[str, HTTPRoute, Any]]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append((route_key(method, route.path), route, handler))
    return found


@pytest.fixture(scope="module")
async def document(app: Litestar, kit: Any) -> dict[str, Any]:
    async with kit.new_client(app) as http:
        response = await http.get("/openapi.json")
        assert response.status_code == 200
        under_docs = await http.get("/docs/openapi.json")
        assert under_docs.status_code == 200
        assert under_docs.json() == response.json()
        body: dict[str, Any] = response.json()
        return body


def _resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Error bodies are named components; follow a `$ref` to its schema."""
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return found


def _operation(document: dict[str, Any], key: str) -> dict[str, Any]:
    method, path = key.split(" ", 1)
    operation: dict[str, Any] = document["paths"][path][method.lower()]
    return operation


async def test_every_registered_route_is_documented(
    app: Litestar, document: dict[str, Any]
) -> None:
    operations = _operations(app)
    assert len(operations) >= 45  # the 45 routes of API.md §3.0 plus the document itself
    documented = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    expected = set()
    for key, _, handler in operations:
        if DOCS_UI.match(key):
            continue
        if key in HIDDEN:
            assert not handler.include_in_schema, key
            continue
        expected.add(key)
    assert documented == expected


async def test_every_operation_documents_its_errors(
    app: Litestar, document: dict[str, Any]
) -> None:
    for key, _, handler in _operations(app):
        if DOCS_UI.match(key) or key in HIDDEN:
            continue
        errors = {s for s in _operation(document, key)["responses"] if s[0] in "45"}
        if key in CANNOT_FAIL:
            assert not errors, key
            continue
        assert errors, key
        # Declared where the route is declared, not added while the document is built.
        declared = {str(status) for status in handler.responses or {}}
        assert errors <= declared | {"422"}, (key, errors - declared)


async def test_protected_operations_declare_both_schemes_and_401(
    app: Litestar, document: dict[str, Any]
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["cookieAuth"] == {"type": "apiKey", "name": "access_token", "in": "cookie"}
    protected_count = 0
    for key, _, handler in _operations(app):
        if DOCS_UI.match(key) or key in HIDDEN:
            continue
        operation = _operation(document, key)
        if authenticated in handler.resolve_guards():
            protected_count += 1
            assert operation["security"] == [{"bearerAuth": []}, {"cookieAuth": []}], key
            unauthorized = operation["responses"]["401"]
            assert "WWW-Authenticate" in unauthorized["description"], key
            schema = _resolved(document, unauthorized["content"]["application/json"]["schema"])
            assert schema["required"] == ["detail"], key
        elif key == "POST /auth/logout":
            # Revokes the token it is sent, so clients attach one; `{}`: it also answers without.
            assert operation["security"] == [{"bearerAuth": []}, {"cookieAuth": []}, {}]
        else:
            assert "security" not in operation, key
            if key != "POST /auth/login":  # its 401 is the bad-credentials answer
                assert "401" not in operation["responses"], key
    assert protected_count == 33 + 3 + 8  # + the /tokens and /webhooks routes (issue 17)


async def test_every_operation_documents_its_real_answers(
    app: Litestar, document: dict[str, Any]
) -> None:
    for key, _, _ in _operations(app):
        if DOCS_UI.match(key) or key in HIDDEN:
            continue
        operation = _operation(document, key)
        responses = operation["responses"]
        statuses = set(responses)
        assert any(s.startswith(("2", "3")) for s in statuses), key
        method = key.split(" ", 1)[0]
        if "requestBody" in operation:
            assert {"413", "422"} <= statuses, key
        if method in WRITES:
            assert "403" in statuses, key  # D4's refusal at least
        if "parameters" in operation and any(
            p["in"] in {"query", "path"} for p in operation["parameters"]
        ):
            assert "422" in statuses, key
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                content = response["content"]
                assert list(content) == ["application/json"], (key, status)
                assert content["application/json"]["schema"], (key, status)
        if "422" in responses:
            schema = _resolved(document, responses["422"]["content"]["application/json"]["schema"])
            assert schema["required"] == ["detail", "errors"], key
    # Spot checks of the families (§1.6) on routes whose answers are well known.
    task = _operation(document, "GET /tasks/{task_id}")["responses"]
    assert _resolved(document, task["404"]["content"]["application/json"]["schema"])[
        "required"
    ] == [
        "error",
        "message",
        "task_id",
    ]
    # No permission (Family A), or an access token without `tasks:read` (`{detail}`).
    forbidden = _resolved(document, task["403"]["content"]["application/json"]["schema"])
    assert [_resolved(document, one)["required"] for one in forbidden["oneOf"]] == [
        ["error", "message"],
        ["detail"],
    ]
    limited = _operation(document, "POST /auth/login")["responses"]["429"]
    assert _resolved(document, limited["content"]["application/json"]["schema"])["required"] == [
        "error"
    ]
    # Litestar's ResponseSpec cannot carry headers yet: the description names them.
    assert all(
        h in limited["description"] for h in ("Retry-After", "RateLimit-Policy", "RateLimit")
    )
    upload = _operation(document, "POST /tasks/{task_id}/files")
    assert "multipart/form-data" in upload["requestBody"]["content"]
    # Binary bodies in detail: tests/http/files/test_files_openapi.py.


async def test_plain_options_lists_every_method_of_the_path(
    api: Any, anon: httpx.AsyncClient
) -> None:
    # Litestar's own Allow header named only the methods of the router that came first.
    me = await api.user("opt")
    for path, methods in [
        ("/notifications/verify", "GET, OPTIONS, POST"),
        ("/tasks/1", "DELETE, GET, OPTIONS, PATCH"),
        ("/tasks/1/comments", "GET, OPTIONS, POST"),
        ("/tasks/1/share/someone", "DELETE, OPTIONS, PUT"),
        ("/comments/1", "DELETE, OPTIONS, PATCH"),
        ("/files/1", "DELETE, GET, OPTIONS"),
    ]:
        response = await anon.options(path, headers=me.auth)
        assert response.status_code == 204, path
        assert response.headers["allow"] == methods, path


async def test_operation_ids_are_the_handlers_snake_case_names(document: dict[str, Any]) -> None:
    ids = [
        operation["operationId"]
        for methods in document["paths"].values()
        for operation in methods.values()
    ]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", found) for found in ids), ids
    by_route = {
        f"{method.upper()} {path}": operation["operationId"]
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    assert by_route["GET /tasks"] == "list_tasks"
    assert by_route["PATCH /tasks/{task_id}"] == "update_task"
    assert by_route["GET /files/{file_id}"] == "download_file"


async def test_every_201_documents_its_location(document: dict[str, Any]) -> None:
    created = {
        f"{method.upper()} {path}": operation["responses"]["201"]
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if "201" in operation["responses"]
    }
    assert set(created) == {
        "POST /auth/register",
        "POST /tasks",
        "POST /tasks/{task_id}/files",
        "POST /tasks/{task_id}/comments",
        "POST /tasks/{task_id}/share",
        "POST /tokens",
        "POST /webhooks",
    }
    for key, response in created.items():
        header = response["headers"]["Location"]
        assert header["schema"] == {"type": "string"}, key
        assert header["required"] is True, key
        assert header["description"].startswith("URL of "), key


async def test_login_documents_its_cookie(document: dict[str, Any]) -> None:
    login = _operation(document, "POST /auth/login")["responses"]["200"]
    cookie = login["headers"]["Set-Cookie"]
    assert cookie["schema"] == {"type": "string"}
    assert "access_token" in cookie["description"]
    assert "HttpOnly" in cookie["description"]


def _pascal(snake: str) -> str:
    return "".join(word.capitalize() for word in snake.split("_"))


async def test_every_operation_has_a_summary_and_a_description(document: dict[str, Any]) -> None:
    operations = [
        (f"{method.upper()} {path}", operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) >= 44
    for key, operation in operations:
        summary = operation.get("summary", "")
        # Litestar's default is the handler's name in CamelCase ("ListTasks").
        assert summary, key
        assert summary != _pascal(operation["operationId"]), key
        assert " " in summary, key
        assert operation.get("description", "").strip(), key
    by_route = dict(operations)
    assert by_route["GET /tasks"]["summary"] == "List your tasks"
    assert by_route["PATCH /tasks/{task_id}"]["summary"] == "Update a task"


def test_every_router_tag_has_a_description() -> None:
    described = {tag.name for tag in TAGS if tag.description}
    used = {tag for router in ROUTERS for tag in router.tags or []}
    assert used == described


async def test_the_document_describes_its_tags(document: dict[str, Any]) -> None:
    described = {tag["name"]: tag.get("description") for tag in document["tags"]}
    assert described == {tag.name: tag.description for tag in TAGS}
    assert all(described.values())

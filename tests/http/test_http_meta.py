"""Service routes (§3.1 with D6), documentation, and the framework's 404/405 bodies (§1.6)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import faros


async def test_root(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": "Task Manager API", "status": "running"}


async def test_favicon_is_empty_204(client: httpx.AsyncClient) -> None:
    response = await client.get("/favicon.ico")
    assert response.status_code == 204
    assert response.content == b""


async def test_health_reports_database_connected(client: httpx.AsyncClient, container: Any) -> None:
    # The clients add a cache-busting query string and no-cache headers; both are ignored.
    response = await client.get(
        "/health?_ts=1732550000000",
        headers={"Cache-Control": "no-cache", "Pragma": "no-cache", "Expires": "0"},
    )
    assert response.status_code == 200
    body = response.json()
    redis = "disabled" if container.settings.redis_url is None else "connected"
    assert body == {"status": "healthy", "database": "connected", "redis": redis}


async def test_version(client: httpx.AsyncClient) -> None:
    response = await client.get("/version")
    assert response.status_code == 200
    assert response.json() == {"version": faros.__version__, "environment": "development"}


async def test_docs_serve_html(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs", follow_redirects=True)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()


async def test_openapi_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "FAROS"
    paths = document["paths"]
    for path in ("/tasks", "/auth/login", "/users/me", "/activity"):
        assert path in paths, sorted(paths)


async def test_openapi_documents_422_shape_and_integer_ids(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/tasks/{task_id}"]["patch"]
    assert "422" in operation["responses"]
    assert "400" not in operation["responses"] or "Validation" not in str(
        operation["responses"]["400"]
    )
    task_id = next(p for p in operation["parameters"] if p["name"] == "task_id")
    assert task_id["schema"]["type"] == "integer"


async def test_unknown_path_is_404_detail(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/path")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


@pytest.mark.parametrize(("method", "path"), [("PATCH", "/users/me"), ("PUT", "/tasks")])
async def test_wrong_method_is_405_detail(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, json={})
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


async def test_json_responses_have_plain_json_content_type(client: httpx.AsyncClient) -> None:
    response = await client.get("/nope")
    assert response.headers["content-type"] == "application/json"

"""CORS (§1.11, D5) and the cookie CSRF check (D4) in a tiny app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar, delete, get, patch, post, put
from litestar.status_codes import HTTP_200_OK
from litestar.testing import TestClient

from faros.entrypoints.http.errors import exception_handlers
from faros.entrypoints.http.security import (
    DEFAULT_CORS_ORIGINS,
    cors_config,
    csrf_middleware,
    parse_origins,
)

ALLOWED = "http://localhost:5173"
FOREIGN = "https://evil.example"
REFUSED = {"detail": "Cross-site request refused"}


@post("/write", status_code=HTTP_200_OK)
async def write() -> dict[str, bool]:
    return {"ok": True}


@put("/write", status_code=HTTP_200_OK)
async def replace() -> dict[str, bool]:
    return {"ok": True}


@patch("/write", status_code=HTTP_200_OK)
async def change() -> dict[str, bool]:
    return {"ok": True}


@delete("/write", status_code=HTTP_200_OK)
async def remove() -> dict[str, bool]:
    return {"ok": True}


@get("/read")
async def read() -> dict[str, bool]:
    return {"ok": True}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    origins = parse_origins("http://localhost:5173, https://faros.example/")
    app = Litestar(
        route_handlers=[write, replace, change, remove, read],
        cors_config=cors_config(origins),
        middleware=[csrf_middleware(origins, cookie_name="access_token")],
        exception_handlers=exception_handlers(),
        logging_config=None,
    )
    with TestClient(app) as test_client:
        yield test_client


def with_cookie(client: TestClient[Litestar]) -> None:
    client.cookies.set("access_token", "jwt-value")


@pytest.fixture
def cookie_client(client: TestClient[Litestar]) -> Iterator[TestClient[Litestar]]:
    with_cookie(client)
    yield client
    client.cookies.clear()


# --- CSRF -----------------------------------------------------------------------------------


def test_cookie_write_from_an_allowed_origin_passes(cookie_client: TestClient[Litestar]) -> None:
    response = cookie_client.post("/write", headers={"Origin": ALLOWED})
    assert (response.status_code, response.json()) == (200, {"ok": True})
    assert response.headers["access-control-allow-origin"] == ALLOWED


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_cookie_write_from_a_foreign_origin_is_refused(
    cookie_client: TestClient[Litestar], method: str
) -> None:
    response = cookie_client.request(method, "/write", headers={"Origin": FOREIGN})
    assert response.status_code == 403
    assert response.json() == REFUSED
    assert response.headers["content-type"] == "application/json"


def test_cookie_write_without_origin_or_referer_is_refused(
    cookie_client: TestClient[Litestar],
) -> None:
    response = cookie_client.post("/write")
    assert (response.status_code, response.json()) == (403, REFUSED)


def test_null_origin_is_refused(cookie_client: TestClient[Litestar]) -> None:
    assert cookie_client.post("/write", headers={"Origin": "null"}).status_code == 403


def test_referer_is_the_fallback_when_origin_is_absent(
    cookie_client: TestClient[Litestar],
) -> None:
    allowed = cookie_client.post("/write", headers={"Referer": f"{ALLOWED}/tasks?page=2"})
    assert allowed.status_code == 200
    with_default_port = cookie_client.post(
        "/write", headers={"Referer": "https://faros.example:443/x"}
    )
    assert with_default_port.status_code == 200
    foreign = cookie_client.post("/write", headers={"Referer": f"{FOREIGN}/attack"})
    assert (foreign.status_code, foreign.json()) == (403, REFUSED)
    other_port = cookie_client.post("/write", headers={"Referer": "http://localhost:5174/"})
    assert other_port.status_code == 403


def test_origin_wins_over_referer(cookie_client: TestClient[Litestar]) -> None:
    response = cookie_client.post(
        "/write", headers={"Origin": FOREIGN, "Referer": f"{ALLOWED}/tasks"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_bearer_requests_are_not_affected(cookie_client: TestClient[Litestar], scheme: str) -> None:
    response = cookie_client.post(
        "/write", headers={"Origin": FOREIGN, "Authorization": f"{scheme} token"}
    )
    assert response.status_code == 200


def test_an_empty_bearer_does_not_bypass_the_check(cookie_client: TestClient[Litestar]) -> None:
    response = cookie_client.post("/write", headers={"Origin": FOREIGN, "Authorization": "Bearer "})
    assert response.status_code == 403
    response = cookie_client.post(
        "/write", headers={"Origin": FOREIGN, "Authorization": "Basic dXNlcjpwYXNz"}
    )
    assert response.status_code == 403


def test_requests_without_the_cookie_pass_through(client: TestClient[Litestar]) -> None:
    assert client.post("/write", headers={"Origin": FOREIGN}).status_code == 200
    client.cookies.set("other", "x")
    try:
        assert client.post("/write", headers={"Origin": FOREIGN}).status_code == 200
    finally:
        client.cookies.clear()


def test_safe_methods_are_not_checked(cookie_client: TestClient[Litestar]) -> None:
    assert cookie_client.get("/read", headers={"Origin": FOREIGN}).status_code == 200


def test_an_empty_cookie_value_counts_as_no_cookie(client: TestClient[Litestar]) -> None:
    response = client.post("/write", headers={"Origin": FOREIGN, "Cookie": 'access_token=""'})
    assert response.status_code == 200


# --- CORS ---------------------------------------------------------------------------------------


def test_preflight_from_an_allowed_origin(client: TestClient[Litestar]) -> None:
    response = client.options(
        "/write",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "Authorization, Content-Type, Cache-Control",
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-max-age"] == "600"
    assert response.headers["vary"] == "Origin"
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "cache-control"):
        assert header in allowed_headers
    assert "PATCH" in response.headers["access-control-allow-methods"]
    assert "access-control-expose-headers" not in response.headers


def test_preflight_from_a_foreign_origin_is_400_text(client: TestClient[Litestar]) -> None:
    response = client.options(
        "/write", headers={"Origin": FOREIGN, "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 400
    assert response.text.lower() == "disallowed cors origin"
    assert "access-control-allow-origin" not in response.headers


def test_simple_response_echoes_only_allowed_origins(client: TestClient[Litestar]) -> None:
    allowed = client.get("/read", headers={"Origin": ALLOWED})
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert allowed.headers["vary"] == "Origin"
    foreign = client.get("/read", headers={"Origin": FOREIGN})
    assert "access-control-allow-origin" not in foreign.headers


def test_parse_origins() -> None:
    assert parse_origins(None) == DEFAULT_CORS_ORIGINS
    assert parse_origins("  ") == DEFAULT_CORS_ORIGINS
    assert parse_origins("https://a.example/, http://b.example:8080,,") == (
        "https://a.example",
        "http://b.example:8080",
    )

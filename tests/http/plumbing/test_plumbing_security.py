"""CORS (§1.11, D5) and the cookie CSRF check (D4) in a tiny app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar, delete, get, patch, post, put
from litestar.status_codes import HTTP_200_OK
from litestar.testing import TestClient

from faros.entrypoints.http.errors import exception_handlers
from faros.entrypoints.http.security import cors_config, request_guard

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
    origins = ("http://localhost:5173", "https://faros.example")
    app = Litestar(
        route_handlers=[write, replace, change, remove, read],
        cors_config=cors_config(origins),
        middleware=[request_guard(origins, cookie_name="access_token")],
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


def test_cookie_write_without_origin_or_fetch_metadata_passes(
    cookie_client: TestClient[Litestar],
) -> None:
    """Amended D4 (it was a 403): no Origin and no Sec-Fetch-Site means no browser."""
    response = cookie_client.post("/write")
    assert (response.status_code, response.json()) == (200, {"ok": True})


def test_null_origin_is_refused(cookie_client: TestClient[Litestar]) -> None:
    assert cookie_client.post("/write", headers={"Origin": "null"}).status_code == 403


@pytest.mark.parametrize("site", ["cross-site", "same-site", "Cross-Site"])
def test_cross_site_fetch_metadata_without_origin_is_refused(
    cookie_client: TestClient[Litestar], site: str
) -> None:
    response = cookie_client.post("/write", headers={"Sec-Fetch-Site": site})
    assert (response.status_code, response.json()) == (403, REFUSED)


@pytest.mark.parametrize("site", ["same-origin", "none"])
def test_same_origin_fetch_metadata_without_origin_passes(
    cookie_client: TestClient[Litestar], site: str
) -> None:
    assert cookie_client.post("/write", headers={"Sec-Fetch-Site": site}).status_code == 200


def test_an_allowed_origin_passes_whatever_fetch_metadata_says(
    cookie_client: TestClient[Litestar],
) -> None:
    response = cookie_client.post(
        "/write", headers={"Origin": ALLOWED, "Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 200


def test_a_foreign_origin_is_refused_whatever_fetch_metadata_says(
    cookie_client: TestClient[Litestar],
) -> None:
    response = cookie_client.post(
        "/write", headers={"Origin": FOREIGN, "Sec-Fetch-Site": "same-origin"}
    )
    assert (response.status_code, response.json()) == (403, REFUSED)


def test_referer_is_not_consulted(cookie_client: TestClient[Litestar]) -> None:
    """Amended D4: the Referer fallback is gone (Origin and Fetch Metadata decide)."""
    foreign = cookie_client.post("/write", headers={"Referer": f"{FOREIGN}/attack"})
    assert foreign.status_code == 200
    refused = cookie_client.post(
        "/write", headers={"Origin": FOREIGN, "Referer": f"{ALLOWED}/tasks"}
    )
    assert (refused.status_code, refused.json()) == (403, REFUSED)


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


def test_a_wildcard_allows_any_origin_but_never_with_credentials() -> None:
    """#14 item 5, development: `*` used to echo any origin with credentials on cookie
    requests; now it means "any origin may read, without credentials"."""
    app = Litestar(
        route_handlers=[write, read],
        cors_config=cors_config(("*", ALLOWED)),
        middleware=[request_guard(("*", ALLOWED), cookie_name="access_token")],
        exception_handlers=exception_handlers(),
        logging_config=None,
    )
    with TestClient(app) as wildcard:
        plain = wildcard.get("/read", headers={"Origin": FOREIGN})
        assert plain.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in plain.headers
        wildcard.cookies.set("access_token", "jwt-value")
        with_cookie = wildcard.get("/read", headers={"Origin": FOREIGN})
        assert with_cookie.headers.get("access-control-allow-credentials") != "true"
        preflight = wildcard.options(
            "/write", headers={"Origin": FOREIGN, "Access-Control-Request-Method": "POST"}
        )
        assert "access-control-allow-credentials" not in preflight.headers
        # `*` is never an origin of the cross-site check: cookie writes stay refused.
        forged = wildcard.post("/write", headers={"Origin": FOREIGN})
        assert (forged.status_code, forged.json()) == (403, REFUSED)
        assert wildcard.post("/write", headers={"Origin": ALLOWED}).status_code == 200

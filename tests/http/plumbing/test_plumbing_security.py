"""CORS (§1.11, D5) and how the cookie CSRF check (D4) reads headers, in a tiny app."""

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
# The rule's cells are tested on the real app (tests/http/test_http_cors_csrf.py); here, how
# header spellings are read. Every request carries the auth cookie unless it sets its own.

ALLOWED_UPPER = ALLOWED.upper()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        # Origins compare as origins: case-insensitive, whole, exactly as serialised.
        ({"Origin": ALLOWED_UPPER}, 200),
        ({"Origin": f"{ALLOWED}/"}, 403),  # no browser sends a path; not an allowed origin
        ({"Origin": "http://localhost"}, 403),
        ({"Origin": "https://localhost:5173"}, 403),
        ({"Origin": f"{ALLOWED}.evil.example"}, 403),
        # Sec-Fetch-Site: case-insensitive; a list a proxy merged counts any cross-site item;
        # values other than the two D4 names do not refuse.
        ({"Sec-Fetch-Site": "Cross-Site"}, 403),
        ({"Sec-Fetch-Site": "same-origin, cross-site"}, 403),
        ({"Sec-Fetch-Site": "SAME-SITE"}, 403),
        ({"Sec-Fetch-Site": "unheard-of"}, 200),
        # The Referer is not consulted, either way.
        ({"Referer": f"{FOREIGN}/attack"}, 200),
        ({"Origin": FOREIGN, "Referer": f"{ALLOWED}/tasks"}, 403),
        # A usable bearer (any scheme case) exempts; an empty or non-bearer one does not.
        ({"Origin": FOREIGN, "Authorization": "Bearer token"}, 200),
        ({"Origin": FOREIGN, "Authorization": "bearer token"}, 200),
        ({"Origin": FOREIGN, "Authorization": "Bearer "}, 403),
        ({"Origin": FOREIGN, "Authorization": "Basic dXNlcjpwYXNz"}, 403),
        # An empty auth cookie, or only other cookies, is no cookie: nothing to forge.
        ({"Origin": FOREIGN, "Cookie": 'access_token=""'}, 200),
        ({"Origin": FOREIGN, "Cookie": "access_token="}, 200),
        ({"Origin": FOREIGN, "Cookie": "other=x"}, 200),
    ],
)
def test_header_spellings(
    cookie_client: TestClient[Litestar], headers: dict[str, str], status: int
) -> None:
    if "Cookie" in headers:
        cookie_client.cookies.clear()
    response = cookie_client.post("/write", headers=headers)
    if status == 403:
        assert (response.status_code, response.json()) == (403, REFUSED)
        assert response.headers["content-type"] == "application/json"
    else:
        assert (response.status_code, response.json()) == (200, {"ok": True})


def test_cookie_write_from_an_allowed_origin_passes(cookie_client: TestClient[Litestar]) -> None:
    response = cookie_client.post("/write", headers={"Origin": ALLOWED})
    assert (response.status_code, response.json()) == (200, {"ok": True})
    assert response.headers["access-control-allow-origin"] == ALLOWED


def test_null_is_never_an_allowed_origin() -> None:
    """Sandboxed frames and `data:` pages send `Origin: null`: any page can be one. The
    settings drop `null` from the list; the check ignores it if given one anyway."""
    app = Litestar(
        route_handlers=[write],
        middleware=[request_guard(("null", ALLOWED), cookie_name="access_token")],
        exception_handlers=exception_handlers(),
        logging_config=None,
    )
    with TestClient(app) as guarded:
        guarded.cookies.set("access_token", "jwt-value")
        forged = guarded.post("/write", headers={"Origin": "null"})
        assert (forged.status_code, forged.json()) == (403, REFUSED)
        assert guarded.post("/write", headers={"Origin": ALLOWED}).status_code == 200


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

"""CORS (§1.11 with D5) and the cookie CSRF check (D4)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.postgres

CSRF_REFUSED = {"detail": "Cross-site request refused"}


def preflight_headers(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": (
            "authorization, content-type, cache-control, pragma, expires"
        ),
    }


# --------------------------------------------------------------------------- CORS


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:5173",
        "http://127.0.0.1:5173",
        "http://localhost:5174",
        "http://127.0.0.1:5174",
    ],
)
async def test_preflight_from_allowed_origin(anon: httpx.AsyncClient, origin: str) -> None:
    response = await anon.options("/tasks", headers=preflight_headers(origin))
    assert response.is_success
    headers = response.headers
    assert headers["access-control-allow-origin"] == origin
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["access-control-max-age"] == "600"
    assert "origin" in headers.get("vary", "").lower()
    allowed_methods = {m.strip() for m in headers["access-control-allow-methods"].split(",")}
    assert "*" in allowed_methods or {"GET", "POST", "PATCH", "PUT", "DELETE"} <= allowed_methods
    allowed_headers = headers["access-control-allow-headers"].lower()
    for name in ("authorization", "content-type", "cache-control", "pragma", "expires"):
        assert name in allowed_headers or allowed_headers == "*"


async def test_preflight_answers_200(anon: httpx.AsyncClient, kit: Any) -> None:
    """§1.11 (kept by D5): a successful preflight is a 200."""
    response = await anon.options(
        "/tasks/1", headers=preflight_headers(kit.allowed_origin, "PATCH")
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "https://faros.odysian.dev", "http://localhost:5175"]
)
async def test_preflight_from_other_origins_is_refused(
    anon: httpx.AsyncClient, origin: str
) -> None:
    response = await anon.options("/tasks", headers=preflight_headers(origin))
    assert response.status_code == 400
    assert response.text == "Disallowed CORS origin"
    assert "access-control-allow-origin" not in response.headers


async def test_simple_responses_carry_cors_headers(
    api: Any, anon: httpx.AsyncClient, kit: Any
) -> None:
    origin = kit.allowed_origin
    account = await api.user()
    ok = await anon.get("/users/me", headers={**account.auth, "Origin": origin})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == origin
    assert ok.headers["access-control-allow-credentials"] == "true"
    assert (
        "access-control-expose-headers" not in ok.headers
        or not ok.headers["access-control-expose-headers"]
    )
    foreign = await anon.get("/", headers={"Origin": kit.foreign_origin})
    assert foreign.status_code == 200
    assert "access-control-allow-origin" not in foreign.headers


@pytest.mark.parametrize(
    ("method", "path", "status", "auth"),
    [
        ("GET", "/no/such/route", 404, False),
        ("GET", "/users/me", 401, False),
        ("GET", "/tasks?limit=0", 422, True),
        ("GET", "/tasks/2147483000", 404, True),
        ("PATCH", "/users/me", 405, False),
        ("POST", "/auth/login", 401, False),
    ],
)
async def test_error_responses_carry_cors_headers(
    api: Any, anon: httpx.AsyncClient, kit: Any, method: str, path: str, status: int, auth: bool
) -> None:
    headers = {"Origin": kit.allowed_origin}
    if auth:
        headers.update((await api.user()).auth)
    body = {"username": "nobody_here", "password": "whatever"} if path == "/auth/login" else None
    response = await anon.request(method, path, headers=headers, json=body)
    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == kit.allowed_origin
    assert response.headers["access-control-allow-credentials"] == "true"


# --------------------------------------------------------------------------- CSRF (D4)


async def test_cookie_write_from_foreign_origin_is_refused(
    api: Any, anon: httpx.AsyncClient, kit: Any
) -> None:
    account = await api.user()
    cookies = {"access_token": account.token}
    refused = await anon.post(
        "/tasks", json={"title": "forged"}, cookies=cookies, headers={"Origin": kit.foreign_origin}
    )
    assert refused.status_code == 403
    assert refused.json() == CSRF_REFUSED
    # Nothing was created.
    assert (await api.get(account, "/tasks")).json()["total"] == 0
    for method, path in (
        ("PATCH", "/tasks/1"),
        ("DELETE", "/tasks/1"),
        ("PUT", "/tasks/1/share/x"),
        ("POST", "/users/me/avatar"),
    ):
        response = await anon.request(
            method, path, cookies=cookies, headers={"Origin": kit.foreign_origin}
        )
        assert response.status_code == 403, path
        assert response.json() == CSRF_REFUSED


async def test_cookie_write_from_allowed_origin_or_referer_passes(
    api: Any, anon: httpx.AsyncClient, kit: Any
) -> None:
    account = await api.user()
    cookies = {"access_token": account.token}
    by_origin = await anon.post(
        "/tasks", json={"title": "ok"}, cookies=cookies, headers={"Origin": kit.allowed_origin}
    )
    assert by_origin.status_code == 201
    by_referer = await anon.post(
        "/tasks",
        json={"title": "ok too"},
        cookies=cookies,
        headers={"Referer": f"{kit.allowed_origin}/tasks?page=2"},
    )
    assert by_referer.status_code == 201
    foreign_referer = await anon.post(
        "/tasks",
        json={"title": "no"},
        cookies=cookies,
        headers={"Referer": f"{kit.foreign_origin}/page"},
    )
    assert foreign_referer.status_code == 403
    assert foreign_referer.json() == CSRF_REFUSED


async def test_cookie_write_without_origin_or_referer_is_refused(
    api: Any, anon: httpx.AsyncClient
) -> None:
    account = await api.user()
    response = await anon.post(
        "/tasks", json={"title": "no origin"}, cookies={"access_token": account.token}
    )
    assert response.status_code == 403
    assert response.json() == CSRF_REFUSED


async def test_bearer_and_safe_requests_are_not_affected(
    api: Any, anon: httpx.AsyncClient, kit: Any
) -> None:
    account = await api.user()
    bearer = await anon.post(
        "/tasks",
        json={"title": "bearer"},
        headers={**account.auth, "Origin": kit.foreign_origin},
    )
    assert bearer.status_code == 201
    read = await anon.get(
        "/tasks", cookies={"access_token": account.token}, headers={"Origin": kit.foreign_origin}
    )
    assert read.status_code == 200
    # No credential at all: the ordinary 401.
    anonymous = await anon.post(
        "/tasks", json={"title": "x"}, headers={"Origin": kit.foreign_origin}
    )
    assert anonymous.status_code == 401
    assert anonymous.json() == {"detail": "Not authenticated"}

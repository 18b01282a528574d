"""CORS (§1.11 with D5) and the cookie CSRF check (D4)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

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


async def test_cookie_write_from_allowed_origin_passes_and_referer_is_not_consulted(
    api: Any, anon: httpx.AsyncClient, kit: Any
) -> None:
    """Amended D4: `Origin` and `Sec-Fetch-Site` decide; a Referer alone neither helps nor
    harms (it used to be the fallback, and a foreign one was refused)."""
    account = await api.user()
    cookies = {"access_token": account.token}
    by_origin = await anon.post(
        "/tasks", json={"title": "ok"}, cookies=cookies, headers={"Origin": kit.allowed_origin}
    )
    assert by_origin.status_code == 201
    foreign_referer = await anon.post(
        "/tasks",
        json={"title": "no browser sent this"},
        cookies=cookies,
        headers={"Referer": f"{kit.foreign_origin}/page"},
    )
    assert foreign_referer.status_code == 201, foreign_referer.text


async def test_cookie_write_without_origin_or_fetch_metadata_passes(
    api: Any, anon: httpx.AsyncClient
) -> None:
    """Amended D4: no `Origin` and no `Sec-Fetch-Site` means no browser (it was a 403)."""
    account = await api.user()
    response = await anon.post(
        "/tasks", json={"title": "no origin"}, cookies={"access_token": account.token}
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({"Sec-Fetch-Site": "cross-site"}, True),
        ({"Sec-Fetch-Site": "same-site"}, True),
        ({"Sec-Fetch-Site": "same-origin"}, False),
        ({"Sec-Fetch-Site": "none"}, False),
        ({"Sec-Fetch-Site": "cross-site", "Origin": "ALLOWED"}, False),
        ({"Sec-Fetch-Site": "same-site", "Origin": "ALLOWED"}, False),
        ({"Sec-Fetch-Site": "same-origin", "Origin": "FOREIGN"}, True),
        ({"Sec-Fetch-Site": "cross-site", "Origin": "FOREIGN"}, True),
        ({"Sec-Fetch-Site": "cross-site", "Origin": "null"}, True),
    ],
)
async def test_cookie_write_is_judged_by_origin_then_fetch_metadata(
    api: Any, anon: httpx.AsyncClient, kit: Any, headers: dict[str, str], refused: bool
) -> None:
    """Amended D4: a present Origin must be allowed; without one, Sec-Fetch-Site decides."""
    names = {"ALLOWED": kit.allowed_origin, "FOREIGN": kit.foreign_origin}
    sent = {key: names.get(value, value) for key, value in headers.items()}
    account = await api.user()
    response = await anon.post(
        "/tasks", json={"title": "fetch"}, cookies={"access_token": account.token}, headers=sent
    )
    if refused:
        assert (response.status_code, response.json()) == (403, CSRF_REFUSED)
        assert (await api.get(account, "/tasks")).json()["total"] == 0
    else:
        assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "FOREIGN"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "FOREIGN"},
    ],
)
async def test_login_and_registration_from_another_site_are_refused_without_a_cookie(
    api: Any, anon: httpx.AsyncClient, kit: Any, headers: dict[str, str]
) -> None:
    """Amended D4: a foreign page cannot sign a browser into the attacker's account."""
    sent = {
        key: kit.foreign_origin if value == "FOREIGN" else value for key, value in headers.items()
    }
    account = await api.user()
    login = await anon.post(
        "/auth/login",
        json={"username": account.username, "password": account.password},
        headers=sent,
    )
    assert (login.status_code, login.json()) == (403, CSRF_REFUSED)
    assert "set-cookie" not in login.headers
    name = kit.unique("csrf")
    register = await anon.post(
        "/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": kit.password},
        headers=sent,
    )
    assert (register.status_code, register.json()) == (403, CSRF_REFUSED)
    # The account was not created: registering it for real works.
    assert (await api.register(name))["username"] == name


@pytest.mark.parametrize("headers", [{}, {"Origin": "ALLOWED"}, {"Sec-Fetch-Site": "same-origin"}])
async def test_login_and_registration_from_the_app_or_no_browser_pass(
    api: Any, anon: httpx.AsyncClient, kit: Any, headers: dict[str, str]
) -> None:
    sent = {
        key: kit.allowed_origin if value == "ALLOWED" else value for key, value in headers.items()
    }
    name = kit.unique("csrf")
    register = await anon.post(
        "/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": kit.password},
        headers=sent,
    )
    assert register.status_code == 201, register.text
    login = await anon.post(
        "/auth/login", json={"username": name, "password": kit.password}, headers=sent
    )
    anon.cookies.clear()
    assert login.status_code == 200, login.text


async def test_other_public_writes_without_a_cookie_are_not_checked(
    anon: httpx.AsyncClient, kit: Any
) -> None:
    """Only login and registration are checked without the cookie (D4 names them)."""
    response = await anon.post(
        "/auth/password-reset/request",
        json={"email": "nobody@example.com"},
        headers={"Origin": kit.foreign_origin, "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 200, response.text


async def test_bearer_and_safe_requests_are_not_affected(
    api: Any, anon: httpx.AsyncClient, kit: Any
) -> None:
    account = await api.user()
    bearer = await anon.post(
        "/tasks",
        json={"title": "bearer"},
        headers={**account.auth, "Origin": kit.foreign_origin, "Sec-Fetch-Site": "cross-site"},
    )
    assert bearer.status_code == 201
    with_cookie_too = await anon.post(
        "/tasks",
        json={"title": "bearer and cookie"},
        cookies={"access_token": account.token},
        headers={**account.auth, "Origin": kit.foreign_origin},
    )
    assert with_cookie_too.status_code == 201
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


# --------------------------------------------------------------------------- duplicates (#14)

PARTNER_ORIGIN = "http://127.0.0.1:5174"  # in the default allow-list


def raw(*pairs: tuple[str, str]) -> list[tuple[str, str]]:
    """Header lists as sent: httpx keeps repeated names when given a list of pairs."""
    return list(pairs)


async def test_a_refusal_never_carries_cors_headers_of_an_earlier_request(
    api: Any, anon: httpx.AsyncClient, kit: Any
) -> None:
    """#14 item 9: the refusal's header list was shared and the CORS layer wrote into it."""
    account = await api.user()
    cookie = ("Cookie", f"access_token={account.token}")
    first = await anon.post(
        "/tasks",
        json={"title": "two origins"},
        headers=raw(("Origin", PARTNER_ORIGIN), ("Origin", kit.foreign_origin), cookie),
    )
    assert first.status_code in (400, 403)
    for _ in range(3):
        refused = await anon.post(
            "/tasks", json={"title": "forged"}, headers=raw(("Origin", kit.foreign_origin), cookie)
        )
        assert (refused.status_code, refused.json()) == (403, CSRF_REFUSED)
        assert "access-control-allow-origin" not in refused.headers
    assert (await api.get(account, "/tasks")).json()["total"] == 0


async def test_two_origin_headers_are_refused_whichever_comes_first(
    api: Any, anon: httpx.AsyncClient, kit: Any
) -> None:
    """#14 item 10: the check read the last Origin, CORS the first."""
    account = await api.user()
    cookie = ("Cookie", f"access_token={account.token}")
    for origins in (
        (kit.foreign_origin, kit.allowed_origin),
        (kit.allowed_origin, kit.foreign_origin),
        (kit.allowed_origin, kit.allowed_origin),
    ):
        response = await anon.post(
            "/tasks",
            json={"title": "two origins"},
            headers=raw(*(("Origin", origin) for origin in origins), cookie),
        )
        assert response.status_code == 400, (origins, response.text)
        assert response.json() == {"detail": "Duplicate Origin header"}
    assert (await api.get(account, "/tasks")).json()["total"] == 0


async def test_two_authorization_headers_are_refused(
    api: Any, anon: httpx.AsyncClient, kit: Any
) -> None:
    """#14 item 10: the check saw the bearer of the second header, authentication the first
    (not a bearer) and fell back to the cookie."""
    account = await api.user()
    cookie = ("Cookie", f"access_token={account.token}")
    for pair in (
        ("Basic dXNlcjpwYXNz", "Bearer forged-value"),
        ("Bearer forged-value", "Basic dXNlcjpwYXNz"),
        (f"Bearer {account.token}", f"Bearer {account.token}"),
    ):
        response = await anon.post(
            "/tasks",
            json={"title": "two authorizations"},
            headers=raw(
                ("Origin", kit.foreign_origin), *(("Authorization", v) for v in pair), cookie
            ),
        )
        assert response.status_code == 400, (pair, response.text)
        assert response.json() == {"detail": "Duplicate Authorization header"}
    # Reads too: which credential authenticates must never be a guess.
    read = await anon.get(
        "/users/me",
        headers=raw(("Authorization", f"Bearer {account.token}"), ("Authorization", "Basic x")),
    )
    assert (read.status_code, read.json()) == (400, {"detail": "Duplicate Authorization header"})
    assert (await api.get(account, "/tasks")).json()["total"] == 0


@pytest.mark.parametrize(
    "cookie_header",
    [
        "access_token ={token}",
        "access_token = {token}",
        " access_token={token}",
        'access_token="{token}"',
        "theme=dark; access_token ={token}",
    ],
)
async def test_the_check_and_authentication_read_the_same_cookie(
    api: Any, anon: httpx.AsyncClient, kit: Any, cookie_header: str
) -> None:
    """#14 item 10: `access_token =` (a space) authenticated but escaped the check."""
    account = await api.user()
    cookie = ("Cookie", cookie_header.format(token=account.token))
    forged = await anon.post(
        "/tasks", json={"title": "spaced"}, headers=raw(("Origin", kit.foreign_origin), cookie)
    )
    assert (forged.status_code, forged.json()) == (403, CSRF_REFUSED)
    assert (await api.get(account, "/tasks")).json()["total"] == 0
    # The same cookie from the app authenticates: both readers agree it is the credential.
    allowed = await anon.post(
        "/tasks", json={"title": "spaced"}, headers=raw(("Origin", kit.allowed_origin), cookie)
    )
    assert allowed.status_code == 201, allowed.text
    assert (await api.get(account, "/tasks")).json()["total"] == 1


async def test_a_cookie_in_a_second_cookie_header_is_seen_by_both(
    api: Any, anon: httpx.AsyncClient, kit: Any
) -> None:
    """HTTP/2 proxies may split cookies over several headers; both readers take them all."""
    account = await api.user()
    split = (("Cookie", "theme=dark"), ("Cookie", f"access_token={account.token}"))
    forged = await anon.post(
        "/tasks", json={"title": "split"}, headers=raw(("Origin", kit.foreign_origin), *split)
    )
    assert (forged.status_code, forged.json()) == (403, CSRF_REFUSED)
    allowed = await anon.get("/users/me", headers=raw(*split))
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["id"] == account.id

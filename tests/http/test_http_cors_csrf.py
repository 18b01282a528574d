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
#
# D4 (amended) as a table. A *checked* request is an unsafe one that carries the auth cookie
# and no bearer header, or any unsafe request to login or registration. It is refused when its
# Origin is present and not allowed, or when Sec-Fetch-Site is `cross-site` or `same-site` and
# its Origin is missing or not allowed. Each cell is what a checked request gets, by its Origin
# (rows) and its Sec-Fetch-Site (columns); "absent" is no such header.

ORIGINS = ("absent", "allowed", "own", "foreign", "null")
SITES = ("absent", "same-origin", "same-site", "cross-site", "none")
RULE = """
            absent   same-origin  same-site  cross-site  none
   absent   pass     pass         REFUSED    REFUSED     pass
   allowed  pass     pass         pass       pass        pass
   own      pass     pass         REFUSED    REFUSED     pass
   foreign  REFUSED  REFUSED      REFUSED    REFUSED     REFUSED
   null     REFUSED  REFUSED      REFUSED    REFUSED     REFUSED
"""
VERDICTS = {
    (row.split()[0], site): verdict
    for row in RULE.strip().splitlines()[1:]
    for site, verdict in zip(SITES, row.split()[1:], strict=True)
}
assert sorted(VERDICTS) == sorted((origin, site) for origin in ORIGINS for site in SITES)
REFUSED_CELLS = frozenset(cell for cell, verdict in VERDICTS.items() if verdict == "REFUSED")
CELLS = [
    pytest.param(origin, site, id=f"origin={origin},site={site}")
    for origin in ORIGINS
    for site in SITES
]


def browser_headers(kit: Any, origin: str, site: str) -> dict[str, str]:
    """The provenance headers of one cell (lower-case names, as a browser would send)."""
    headers = {}
    if origin != "absent":
        headers["origin"] = {
            "allowed": kit.allowed_origin,
            # FAROS's own origin (its /docs page), not in the allow-list.
            "own": kit.own_origin,
            "foreign": kit.foreign_origin,
        }.get(origin, origin)
    if site != "absent":
        headers["sec-fetch-site"] = site
    return headers


def cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"access_token={token}"}


async def snapshot(api: Any, owner: Any, task_id: int) -> Any:
    """Everything a write of these tests could change, read with the owner's bearer token."""
    tasks = await api.get(owner, "/tasks")
    shares = await api.get(owner, f"/tasks/{task_id}/shares")
    return tasks.json(), shares.status_code, shares.json()


@pytest.mark.parametrize("credential", ["cookie", "bearer", "bearer and cookie", "none"])
@pytest.mark.parametrize(("origin", "site"), CELLS)
async def test_a_task_write_is_judged_by_the_table(
    api: Any, anon: httpx.AsyncClient, kit: Any, credential: str, origin: str, site: str
) -> None:
    """Only the cookie is checked: a page cannot read a bearer token, and with no credential
    at all there is nothing to forge (the ordinary 401)."""
    owner = await api.user("csrf")
    task = await api.task(owner, title="before")
    headers = browser_headers(kit, origin, site)
    if "cookie" in credential:
        headers |= cookie(owner.token)
    if "bearer" in credential:
        headers |= owner.auth
    before = await snapshot(api, owner, task["id"])
    response = await anon.patch(f"/tasks/{task['id']}", json={"title": "after"}, headers=headers)
    if credential == "cookie" and (origin, site) in REFUSED_CELLS:
        assert (response.status_code, response.json()) == (403, CSRF_REFUSED)
        assert await snapshot(api, owner, task["id"]) == before
    elif credential == "none":
        assert (response.status_code, response.json()) == (401, kit.not_authenticated)
        assert await snapshot(api, owner, task["id"]) == before
    else:
        assert response.status_code == 200, response.text
        assert response.json()["title"] == "after"


@pytest.mark.parametrize("with_cookie", [False, True], ids=["no cookie", "the client's cookie"])
@pytest.mark.parametrize(("origin", "site"), CELLS)
async def test_login_is_judged_by_the_table_with_or_without_a_cookie(
    api: Any, anon: httpx.AsyncClient, kit: Any, origin: str, site: str, with_cookie: bool
) -> None:
    """A foreign page cannot sign a browser into the attacker's account (no cookie needed);
    a client that kept its cookie and sends no browser header logs in again (#16)."""
    account = await api.user("csrf")
    headers = browser_headers(kit, origin, site)
    if with_cookie:
        headers |= cookie(account.token)
    response = await anon.post(
        "/auth/login",
        json={"username": account.username, "password": account.password},
        headers=headers,
    )
    if (origin, site) in REFUSED_CELLS:
        assert (response.status_code, response.json()) == (403, CSRF_REFUSED)
        assert "set-cookie" not in response.headers
    else:
        assert response.status_code == 200, response.text
        assert response.headers["set-cookie"].startswith("access_token=")


@pytest.mark.parametrize(("origin", "site"), CELLS)
async def test_registration_is_judged_by_the_table_without_a_cookie(
    api: Any, anon: httpx.AsyncClient, kit: Any, origin: str, site: str
) -> None:
    name = kit.unique("csrf")
    response = await anon.post(
        "/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": kit.password},
        headers=browser_headers(kit, origin, site),
    )
    if (origin, site) in REFUSED_CELLS:
        assert (response.status_code, response.json()) == (403, CSRF_REFUSED)
        # The account was not created: registering it for real works.
        assert (await api.register(name))["username"] == name
    else:
        assert response.status_code == 201, response.text
        assert response.json()["username"] == name


async def _post_task(anon: httpx.AsyncClient, task: Any, friend: Any, h: Any) -> httpx.Response:
    return await anon.post("/tasks", json={"title": "new"}, headers=h)


async def _put_share(anon: httpx.AsyncClient, task: Any, friend: Any, h: Any) -> httpx.Response:
    path = f"/tasks/{task['id']}/share/{friend.username}"
    return await anon.put(path, json={"permission": "edit"}, headers=h)


async def _patch_task(anon: httpx.AsyncClient, task: Any, friend: Any, h: Any) -> httpx.Response:
    return await anon.patch(f"/tasks/{task['id']}", json={"title": "after"}, headers=h)


async def _delete_task(anon: httpx.AsyncClient, task: Any, friend: Any, h: Any) -> httpx.Response:
    return await anon.delete(f"/tasks/{task['id']}", headers=h)


WRITES = {"POST": _post_task, "PUT": _put_share, "PATCH": _patch_task, "DELETE": _delete_task}


@pytest.mark.parametrize("method", list(WRITES))
@pytest.mark.parametrize(
    ("origin", "site"), [("absent", "absent"), ("foreign", "cross-site"), ("foreign", "absent")]
)
async def test_every_unsafe_method_is_checked_and_a_client_without_browser_headers_passes(
    api: Any, anon: httpx.AsyncClient, kit: Any, method: str, origin: str, site: str
) -> None:
    """The cookie client of a generated SDK (no Origin, no Sec-Fetch-Site) may use every
    write; a browser page of another origin may use none (tests/http/security/test_tokens.py
    tries every route)."""
    owner, friend = await api.user("csrf"), await api.user("friend")
    task = await api.task(owner, title="before")
    await api.share(owner, task["id"], friend, "view")
    before = await snapshot(api, owner, task["id"])
    headers = browser_headers(kit, origin, site) | cookie(owner.token)
    response = await WRITES[method](anon, task, friend, headers)
    if (origin, site) in REFUSED_CELLS:
        assert (response.status_code, response.json()) == (403, CSRF_REFUSED)
        assert await snapshot(api, owner, task["id"]) == before
    else:
        assert response.is_success, response.text
        assert await snapshot(api, owner, task["id"]) != before


@pytest.mark.parametrize(
    ("method", "origin", "status"),
    [
        ("GET", "foreign", 200),
        # No route answers HEAD: routing's 405 comes first, as for any unrouted method.
        ("HEAD", "foreign", 405),
        # An OPTIONS with an Origin is the CORS layer's (a refused preflight), so none here.
        ("OPTIONS", "absent", 204),
    ],
)
async def test_safe_methods_are_never_checked(
    api: Any, anon: httpx.AsyncClient, kit: Any, method: str, origin: str, status: int
) -> None:
    owner = await api.user("csrf")
    task = await api.task(owner)
    headers = browser_headers(kit, origin, "cross-site") | cookie(owner.token)
    response = await anon.request(method, f"/tasks/{task['id']}", headers=headers)
    assert response.status_code == status, response.text


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

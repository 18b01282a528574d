"""Personal access tokens over HTTP (#17 part 1), on both backends unless marked."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.domain.api_tokens import SCOPES, TOUCH_INTERVAL
from faros.entrypoints.http.deps import authenticated
from faros.entrypoints.http.scopes import ROUTE_SCOPES, requirement

pytestmark = pytest.mark.every_backend

SECRET = re.compile(r"faros_pat_[A-Za-z0-9_-]{43}")
LISTED = {"id", "name", "scopes", "created_at", "expires_at", "last_used_at"}
NEEDS_LOGIN = {"detail": "This action needs a login: access tokens cannot be used for it"}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def make_token(
    client: httpx.AsyncClient, who: Any, *scopes: str, days: int = 30, name: str = "script"
) -> dict[str, Any]:
    body = {"name": name, "scopes": list(scopes), "expires_in_days": days}
    response = await client.post("/tokens", json=body, headers=who.auth)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --------------------------------------------------------------------------- create, list


async def test_a_new_token_shows_its_secret_once(api: Any, client: httpx.AsyncClient) -> None:
    alice = await api.user()
    response = await client.post(
        "/tokens",
        json={
            "name": "  nightly  ",
            "scopes": ["comments:write", "tasks:read", "tasks:read"],
            "expires_in_days": 90,
        },
        headers=alice.auth,
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/tokens"
    made = response.json()
    assert list(made) == [*LISTED_ORDER, "token"]
    assert SECRET.fullmatch(made["token"])
    # Trimmed name; each scope once, in the documented order.
    assert made["name"] == "nightly"
    assert made["scopes"] == ["tasks:read", "comments:write"]
    assert made["last_used_at"] is None
    assert moment(made["expires_at"]) - moment(made["created_at"]) == timedelta(days=90)

    listed = (await client.get("/tokens", headers=alice.auth)).json()
    assert [set(item) for item in listed] == [LISTED]
    assert made["token"] not in str(listed)
    # Each one new: 256 random bits.
    again = await make_token(client, alice, "tasks:read")
    assert again["token"] != made["token"]


LISTED_ORDER = ["id", "name", "scopes", "created_at", "expires_at", "last_used_at"]


async def test_the_list_holds_only_the_callers_tokens_newest_first(
    api: Any, client: httpx.AsyncClient
) -> None:
    alice, bob = await api.user(), await api.user()
    first = await make_token(client, alice, "tasks:read", name="first")
    second = await make_token(client, alice, "files:read", name="second")
    await make_token(client, bob, "tasks:read")
    listed = (await client.get("/tokens", headers=alice.auth)).json()
    assert [item["id"] for item in listed] == [second["id"], first["id"]]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"name": "x", "scopes": ["tasks:read"], "expires_in_days": 0}, "expires_in_days"),
        ({"name": "x", "scopes": ["tasks:read"], "expires_in_days": 366}, "expires_in_days"),
        ({"name": "x", "scopes": ["tasks:read"], "expires_in_days": -5}, "expires_in_days"),
        ({"name": "x", "scopes": ["tasks:read"]}, "expires_in_days"),  # no default
        ({"name": "x", "scopes": ["tasks:read"], "expires_in_days": None}, "expires_in_days"),
        ({"name": "x", "scopes": [], "expires_in_days": 30}, "scopes"),
        ({"name": "x", "scopes": ["admin"], "expires_in_days": 30}, "scopes"),
        ({"name": "x", "expires_in_days": 30}, "scopes"),
        ({"name": "   ", "scopes": ["tasks:read"], "expires_in_days": 30}, "name"),
        ({"name": "x" * 101, "scopes": ["tasks:read"], "expires_in_days": 30}, "name"),
    ],
)
async def test_bad_bodies_are_422(
    api: Any, client: httpx.AsyncClient, body: dict[str, Any], where: str
) -> None:
    alice = await api.user()
    response = await client.post("/tokens", json=body, headers=alice.auth)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"][:2] == ["body", where]
    assert (await client.get("/tokens", headers=alice.auth)).json() == []


@pytest.mark.parametrize("days", [1, 365])
async def test_expiry_may_be_one_day_to_a_year(
    api: Any, client: httpx.AsyncClient, days: int
) -> None:
    alice = await api.user()
    made = await make_token(client, alice, "tasks:read", days=days)
    assert moment(made["expires_at"]) - moment(made["created_at"]) == timedelta(days=days)


@pytest.mark.postgres
async def test_only_the_secrets_sha256_is_stored(
    api: Any, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    alice = await api.user()
    made = await make_token(client, alice, "tasks:read")
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT * FROM faros.api_tokens WHERE id = :id"), {"id": made["id"]}
            )
        ).one()
    assert row.token_hash == hashlib.sha256(made["token"].encode()).hexdigest()
    assert made["token"] not in str(tuple(row))


# --------------------------------------------------------------------------- using one


async def test_a_token_works_like_a_login_within_its_scopes(
    api: Any, client: httpx.AsyncClient
) -> None:
    alice = await api.user()
    task = await api.task(alice)
    reader = bearer((await make_token(client, alice, "tasks:read"))["token"])
    listed = await client.get("/tasks", headers=reader)
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()["tasks"]] == [task["id"]]
    assert (await client.get(f"/tasks/{task['id']}", headers=reader)).status_code == 200
    assert (await client.get(f"/tasks/{task['id']}/comments", headers=reader)).status_code == 200

    refused = await client.post("/tasks", json={"title": "nope"}, headers=reader)
    assert refused.status_code == 403
    assert refused.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", scope="tasks:write"'
    )
    assert refused.json() == {"detail": "This access token lacks the 'tasks:write' scope"}
    # Refused before the body is read: a bad body gets the same 403.
    bad = await client.post("/tasks", content=b"{", headers=reader)
    assert bad.status_code == 403


@pytest.mark.parametrize(
    ("scope", "allowed", "refused"),
    [
        ("tasks:write", ("POST", "/tasks", {"title": "t"}), ("GET", "/tasks", None)),
        (
            "comments:write",
            ("POST", "/tasks/{id}/comments", {"content": "hi"}),
            ("GET", "/tasks/{id}", None),
        ),
        ("files:read", ("GET", "/tasks/{id}/files", None), ("DELETE", "/tasks/{id}", None)),
        ("activity:read", ("GET", "/activity", None), ("GET", "/users/me", None)),
        ("account:read", ("GET", "/users/me", None), ("GET", "/activity/stats", None)),
    ],
)
async def test_each_scope_opens_its_routes_only(
    api: Any,
    client: httpx.AsyncClient,
    scope: str,
    allowed: tuple[str, str, Any],
    refused: tuple[str, str, Any],
) -> None:
    alice = await api.user()
    task = await api.task(alice)
    secret = bearer((await make_token(client, alice, scope))["token"])
    method, path, body = allowed
    ok = await client.request(
        method, path.replace("{id}", str(task["id"])), json=body, headers=secret
    )
    assert ok.status_code in {200, 201}, ok.text
    method, path, body = refused
    no = await client.request(
        method, path.replace("{id}", str(task["id"])), json=body, headers=secret
    )
    assert no.status_code == 403, no.text
    assert no.headers["www-authenticate"].startswith('Bearer error="insufficient_scope", scope="')


async def test_a_token_uploads_with_files_write(api: Any, client: httpx.AsyncClient) -> None:
    alice = await api.user()
    task = await api.task(alice)
    writer = bearer((await make_token(client, alice, "files:write"))["token"])
    uploaded = await client.post(
        f"/tasks/{task['id']}/files", files={"file": ("a.txt", b"hi", "text/plain")}, headers=writer
    )
    assert uploaded.status_code == 201, uploaded.text
    listed = await client.get(f"/tasks/{task['id']}/files", headers=writer)
    assert listed.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", scope="files:read"'
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/tokens", None),
        ("POST", "/tokens", {"name": "more", "scopes": ["tasks:read"], "expires_in_days": 1}),
        ("DELETE", "/tokens/{own}", None),
        ("PATCH", "/users/me/change-password", {"current_password": "x", "new_password": "y" * 9}),
        ("PATCH", "/notifications/preferences", {"email_enabled": False}),
        ("POST", "/notifications/send-verification", None),
        ("GET", "/webhooks", None),  # the whole /webhooks tree (routes of part 2)
    ],
)
async def test_a_token_never_manages_credentials_or_the_account(
    api: Any, client: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    alice = await api.user()
    every_scope = await make_token(client, alice, *SCOPES)
    response = await client.request(
        method,
        path.replace("{own}", str(every_scope["id"])),
        json=body,
        headers=bearer(every_scope["token"]),
    )
    if path == "/webhooks" and response.status_code == 404:
        return  # part 2 not merged yet: no route to guard
    assert response.status_code == 403, response.text
    assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope"'
    assert response.json() == NEEDS_LOGIN
    # Nothing happened: the token is still there and still alone.
    listed = (await client.get("/tokens", headers=alice.auth)).json()
    assert [item["id"] for item in listed] == [every_scope["id"]]


async def test_options_lists_methods_for_any_token(api: Any, client: httpx.AsyncClient) -> None:
    alice = await api.user()
    secret = bearer((await make_token(client, alice, "files:read"))["token"])
    response = await client.options("/tasks", headers=secret)
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, OPTIONS, POST"


async def test_a_token_in_the_cookie_is_refused(api: Any, client: httpx.AsyncClient) -> None:
    alice = await api.user()
    secret = (await make_token(client, alice, "tasks:read"))["token"]
    client.cookies.set("access_token", secret)
    try:
        response = await client.get("/tasks")
    finally:
        client.cookies.clear()
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or expired token"}


# --------------------------------------------------------------------------- refusals


async def test_unknown_and_revoked_tokens_get_the_invalid_jwt_answer(
    api: Any, client: httpx.AsyncClient
) -> None:
    alice = await api.user()
    made = await make_token(client, alice, "tasks:read")
    assert (await client.get("/tasks", headers=bearer(made["token"]))).status_code == 200

    invalid_jwt = await client.get("/tasks", headers=bearer("not.a.jwt"))
    assert invalid_jwt.status_code == 401

    revoked = await client.delete(f"/tokens/{made['id']}", headers=alice.auth)
    assert revoked.status_code == 204
    assert (await client.get("/tokens", headers=alice.auth)).json() == []
    for secret in (made["token"], "faros_pat_" + "A" * 43, "faros_pat_", "faros_pat_\u00e9"):
        header = f"Bearer {secret}".encode("latin-1")
        answer = await client.get("/tasks", headers={"Authorization": header})
        assert answer.status_code == 401, secret
        assert answer.json() == invalid_jwt.json() == {"detail": "Invalid or expired token"}
        assert answer.headers["www-authenticate"] == invalid_jwt.headers["www-authenticate"]


async def test_revoking_needs_the_owner(api: Any, client: httpx.AsyncClient) -> None:
    alice, bob = await api.user(), await api.user()
    made = await make_token(client, alice, "tasks:read")
    for token_id in (str(made["id"]), "99999999", "4294967296"):
        response = await client.delete(f"/tokens/{token_id}", headers=bob.auth)
        assert response.status_code == 404, token_id
        assert response.json() == {"detail": "Token not found"}
    assert (await client.delete("/tokens/abc", headers=alice.auth)).status_code == 422
    assert (await client.get("/tasks", headers=bearer(made["token"]))).status_code == 200


# --------------------------------------------------------------------------- passwords


async def test_a_password_change_keeps_the_tokens(api: Any, client: httpx.AsyncClient) -> None:
    alice = await api.user()
    made = await make_token(client, alice, "tasks:read")
    changed = await client.patch(
        "/users/me/change-password",
        json={"current_password": alice.password, "new_password": "another-password-7"},
        headers=alice.auth,
    )
    assert changed.status_code == 200
    client.cookies.clear()
    assert (await client.get("/tasks", headers=alice.auth)).status_code == 401  # the old JWT
    assert (await client.get("/tasks", headers=bearer(made["token"]))).status_code == 200


async def test_a_password_reset_revokes_every_token(
    api: Any, client: httpx.AsyncClient, mail: Any
) -> None:
    alice, bob = await api.user(), await api.user()
    mine = [await make_token(client, alice, "tasks:read") for _ in range(2)]
    theirs = await make_token(client, bob, "tasks:read")
    await client.post("/auth/password-reset/request", json={"email": alice.email})
    link = await mail.token_for(alice.email, "/password-reset")
    reset = await client.post(
        "/auth/password-reset/verify", json={"token": link, "new_password": "reset-password-8"}
    )
    assert reset.status_code == 200, reset.text
    for made in mine:
        assert (await client.get("/tasks", headers=bearer(made["token"]))).status_code == 401
    assert (await client.get("/tasks", headers=bearer(theirs["token"]))).status_code == 200
    fresh = await api.login(alice.username, "reset-password-8")
    assert (await client.get("/tokens", headers=bearer(fresh))).json() == []


# --------------------------------------------------------------------------- the table


async def test_every_protected_route_has_a_scope_or_needs_a_login(app: Litestar) -> None:
    seen: set[str] = set()
    needs: set[str] = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if authenticated not in handler.resolve_guards() or handler.http_methods == {"OPTIONS"}:
                continue
            seen.add(handler.handler_name)
            need = requirement(route.path, handler.opt, handler.handler_name)
            assert need is not None, f"{handler.handler_name}: add it to scopes.ROUTE_SCOPES"
            needs.add(need)
    # Every scope opens something, and the table names no route that is gone.
    assert set(SCOPES) <= needs
    assert set(ROUTE_SCOPES) <= seen


# --------------------------------------------------------------------------- the clock


async def test_last_use_is_recorded_at_most_once_a_minute_and_expiry_holds(
    clocked: tuple[Litestar, Any], kit: Any
) -> None:
    app, clock = clocked
    async with kit.new_client(app) as client:
        api = kit.Api(client)
        alice = await api.user()
        made = await make_token(client, alice, "tasks:read", days=1)
        secret = bearer(made["token"])

        async def last_used() -> datetime | None:
            listed = (await client.get("/tokens", headers=alice.auth)).json()
            value = listed[0]["last_used_at"]
            return None if value is None else moment(value)

        assert await last_used() is None
        start = clock.now()
        assert (await client.get("/tasks", headers=secret)).status_code == 200
        assert await last_used() == start
        clock.advance(TOUCH_INTERVAL - timedelta(seconds=1))
        assert (await client.get("/tasks", headers=secret)).status_code == 200
        assert await last_used() == start  # not a minute yet: nothing written
        clock.advance(timedelta(seconds=1))
        assert (await client.get("/tasks", headers=secret)).status_code == 200
        assert await last_used() == start + TOUCH_INTERVAL

        clock.set(moment(made["expires_at"]) - timedelta(seconds=1))
        assert (await client.get("/tasks", headers=secret)).status_code == 200
        clock.advance(timedelta(seconds=1))
        expired = await client.get("/tasks", headers=secret)
        assert expired.status_code == 401
        assert expired.json() == {"detail": "Invalid or expired token"}


# --------------------------------------------------------------------------- rate limits


async def test_rate_limits_count_per_token(limited: Litestar, kit: Any) -> None:
    """Uploads (20 per hour per user) counted for each token on its own, and apart from the
    user's login: one busy script cannot spend what the others need."""
    async with kit.new_client(limited) as client:
        api = kit.Api(client)
        alice = await api.user()
        task = await api.task(alice)
        first = bearer((await make_token(client, alice, "files:write"))["token"])
        second = bearer((await make_token(client, alice, "files:write"))["token"])

        async def upload(headers: dict[str, str]) -> int:
            response = await client.post(
                f"/tasks/{task['id']}/files",
                files={"file": ("a.txt", b"hi", "text/plain")},
                headers=headers,
            )
            return response.status_code

        assert [await upload(first) for _ in range(20)] == [201] * 20
        assert await upload(first) == 429
        assert await upload(second) == 201
        assert await upload(alice.auth) == 201

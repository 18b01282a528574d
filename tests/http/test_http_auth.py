"""Authentication (§1.3 to §1.5, §3.2) with decisions D1 to D3, D7a, D10, D11."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

pytestmark = pytest.mark.every_backend

RESET_SENT = {"message": "If email exists, password reset sent"}
RESET_DONE = {
    "message": "Password updated successfully. You can now log in with your new password."
}
BAD_LOGIN = {"error": "Authentication Failed", "message": "Invalid username or password"}
INVALID_TOKEN = {"detail": "Invalid or expired token"}


def cookie_attributes(header: str) -> tuple[str, str, dict[str, str]]:
    """(name, value, {lower-cased attribute: value}) of one Set-Cookie header."""
    first, *rest = [part.strip() for part in header.split(";")]
    name, _, value = first.partition("=")
    attributes: dict[str, str] = {}
    for part in rest:
        key, _, val = part.partition("=")
        attributes[key.strip().lower()] = val.strip()
    return name, value, attributes


# --------------------------------------------------------------------------- register


async def test_register_answers_user_created(client: httpx.AsyncClient, kit: Any) -> None:
    username = kit.unique("reg")
    response = await client.post(
        "/auth/register",
        json={"username": username, "email": f"{username}@Example.com", "password": "password1"},
    )
    assert response.status_code == 201
    body = response.json()
    assert list(body) == ["id", "username", "email", "created_at"]
    assert body["username"] == username
    assert body["email"] == f"{username}@Example.com"
    assert isinstance(body["id"], int)
    assert body["created_at"].endswith("Z")
    assert "set-cookie" not in response.headers


async def test_register_ignores_unknown_fields(client: httpx.AsyncClient, kit: Any) -> None:
    username = kit.unique("reg")
    response = await client.post(
        "/auth/register",
        json={
            "username": username,
            "email": f"{username}@example.com",
            "password": "password1",
            "is_admin": True,
            "email_verified": True,
        },
    )
    assert response.status_code == 201
    token = (
        await client.post("/auth/login", json={"username": username, "password": "password1"})
    ).json()["access_token"]
    client.cookies.clear()
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email_verified"] is False


async def test_register_duplicate_username_then_email(api: Any, kit: Any) -> None:
    taken = await api.register()
    client = api.client
    # Same username, new e-mail → username conflict.
    response = await client.post(
        "/auth/register",
        json={
            "username": taken["username"],
            "email": f"{kit.unique('x')}@example.com",
            "password": "password1",
        },
    )
    assert response.status_code == 409
    assert response.json() == {
        "error": "Duplicate User",
        "message": f"Username '{taken['username']}' is already registered",
        "field": "username",
    }
    # Both taken → the username is reported (checked first).
    response = await client.post(
        "/auth/register",
        json={"username": taken["username"], "email": taken["email"], "password": "password1"},
    )
    assert response.status_code == 409
    assert response.json()["field"] == "username"
    # New username, same e-mail in another case → e-mail conflict (D11: case-insensitive).
    shouted = taken["email"].upper()
    response = await client.post(
        "/auth/register",
        json={"username": kit.unique("y"), "email": shouted, "password": "password1"},
    )
    assert response.status_code == 409
    assert response.json() == {
        "error": "Duplicate User",
        "message": f"Email '{shouted}' is already registered",
        "field": "email",
    }


async def test_register_refuses_a_username_differing_only_in_case(
    api: Any, kit: Any, anon: httpx.AsyncClient
) -> None:
    taken = await api.register(kit.unique("case"))
    shouted = taken["username"].upper()
    response = await api.client.post(
        "/auth/register",
        json={
            "username": shouted,
            "email": f"{kit.unique('x')}@example.com",
            "password": "password1",
        },
    )
    assert response.status_code == 409
    assert response.json() == {
        "error": "Duplicate User",
        "message": f"Username '{shouted}' is already registered",
        "field": "username",
    }
    # Login stays exact (D11): the other spelling names nobody.
    login = {"username": shouted, "password": kit.password}
    wrong_case = await anon.post("/auth/login", json=login)
    assert wrong_case.status_code == 401
    assert await api.login(taken["username"])


@pytest.mark.parametrize("username", ["has space", "slash/name", "qu?ery", "hash#x", "ünï", "a+b"])
async def test_register_rejects_unsafe_username_charset(
    client: httpx.AsyncClient, username: str
) -> None:
    response = await client.post(
        "/auth/register",
        json={
            "username": username,
            "email": f"{uuid.uuid4().hex}@example.com",
            "password": "password1",
        },
    )
    assert response.status_code == 422
    body = response.json()
    assert isinstance(body["detail"], str)
    assert body["detail"].startswith("username: ")
    assert [error["loc"] for error in body["errors"]] == [["body", "username"]]
    assert body["errors"][0]["input"] == username


@pytest.mark.parametrize("shape", ["plain", "punctuated", "longest"])
async def test_register_accepts_safe_usernames(client: httpx.AsyncClient, shape: str) -> None:
    suffix = uuid.uuid4().hex
    name = {
        "plain": f"abc{suffix[:8]}",
        "punctuated": f"A.b-c_9{suffix[:8]}",
        "longest": suffix + "X" * 18,
    }[shape]
    response = await client.post(
        "/auth/register",
        json={"username": name, "email": f"{suffix}@example.com", "password": "password1"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["username"] == name


@pytest.mark.parametrize("address", ["not-an-email", "a@b", "two@@example.com", "sp ace@x.com"])
async def test_register_rejects_malformed_email(
    client: httpx.AsyncClient, kit: Any, address: str
) -> None:
    response = await client.post(
        "/auth/register",
        json={"username": kit.unique("mail"), "email": address, "password": "password1"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("email: ")
    assert [error["loc"] for error in body["errors"]] == [["body", "email"]]


async def test_register_422_reports_every_error_in_d7a_shape(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/auth/register", json={"username": "al", "email": "al@example.com", "password": "short"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "detail": "username: String should have at least 3 characters",
        "errors": [
            {
                "type": "string_too_short",
                "loc": ["body", "username"],
                "msg": "String should have at least 3 characters",
                "input": "al",
                "ctx": {"min_length": 3},
            },
            {
                "type": "string_too_short",
                "loc": ["body", "password"],
                "msg": "String should have at least 8 characters",
                "input": "short",
                "ctx": {"min_length": 8},
            },
        ],
    }


async def test_register_missing_fields_and_long_values(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/register", json={})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors == [
        {"type": "missing", "loc": ["body", name], "msg": "Field required", "input": {}}
        for name in ("username", "email", "password")
    ]
    response = await client.post(
        "/auth/register",
        json={"username": "u" * 51, "email": "e@example.com", "password": "p" * 101},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["type"], e["loc"], e.get("ctx")) for e in errors] == [
        ("string_too_long", ["body", "username"], {"max_length": 50}),
        ("string_too_long", ["body", "password"], {"max_length": 100}),
    ]
    assert errors[0]["msg"] == "String should have at most 50 characters"


async def test_register_body_not_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/auth/register", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    body = response.json()
    assert isinstance(body["detail"], str)
    assert body["errors"][0]["type"] == "json_invalid"
    assert body["errors"][0]["loc"][0] == "body"
    response = await client.post("/auth/register", json=["a", "list"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "model_attributes_type"
    assert response.json()["errors"][0]["loc"] == ["body"]


# --------------------------------------------------------------------------- login / cookie


async def test_login_returns_token_and_sets_cookie(api: Any) -> None:
    created = await api.register()
    response = await api.client.post(
        "/auth/login", json={"username": created["username"], "password": "correct-horse-1"}
    )
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["access_token", "token_type"]
    assert body["token_type"] == "bearer"
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 1
    name, value, attributes = cookie_attributes(cookies[0])
    assert name == "access_token"
    assert value == body["access_token"]
    assert attributes == {"httponly": "", "max-age": "43200", "path": "/", "samesite": "lax"}
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == created["username"]
    assert {"sub", "exp", "iat", "jti", "ver"} <= set(claims)
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"


async def test_login_with_wrong_password_or_unknown_user(api: Any, kit: Any) -> None:
    created = await api.register()
    for payload in (
        {"username": created["username"], "password": "wrong-password"},
        {"username": kit.unique("ghost"), "password": "whatever1"},
        # Login stays exact (D11): another case is another username.
        {"username": created["username"].upper(), "password": "correct-horse-1"},
    ):
        response = await api.client.post("/auth/login", json=payload)
        assert response.status_code == 401
        assert response.json() == BAD_LOGIN
        assert response.headers["www-authenticate"] == "Bearer"
        assert "set-cookie" not in response.headers


async def test_login_validation(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/login", json={"username": "someone"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "type": "missing",
            "loc": ["body", "password"],
            "msg": "Field required",
            "input": {"username": "someone"},
        }
    ]


async def test_bearer_and_cookie_both_authenticate(api: Any, anon: httpx.AsyncClient) -> None:
    account = await api.user()
    by_bearer = await anon.get("/users/me", headers=account.auth)
    assert by_bearer.status_code == 200
    by_cookie = await anon.get("/users/me", cookies={"access_token": account.token})
    assert by_cookie.status_code == 200
    assert by_cookie.json() == by_bearer.json()
    lower = await anon.get("/users/me", headers={"Authorization": f"bearer {account.token}"})
    assert lower.status_code == 200
    upper = await anon.get("/users/me", headers={"Authorization": f"BEARER {account.token}"})
    assert upper.status_code == 200


async def test_login_cookie_alone_keeps_a_session(api: Any, app: Any, kit: Any) -> None:
    created = await api.register()
    async with kit.new_client(app) as browser:
        response = await browser.post(
            "/auth/login", json={"username": created["username"], "password": "correct-horse-1"}
        )
        assert response.status_code == 200
        me = await browser.get("/users/me")
        assert me.status_code == 200
        assert me.json()["username"] == created["username"]


async def test_bad_bearer_does_not_fall_back_to_cookie(api: Any, anon: httpx.AsyncClient) -> None:
    account = await api.user()
    response = await anon.get(
        "/users/me",
        headers={"Authorization": "Bearer not-a-jwt"},
        cookies={"access_token": account.token},
    )
    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token abc"])
async def test_unusable_authorization_header_falls_back_to_cookie(
    api: Any, anon: httpx.AsyncClient, header: str
) -> None:
    account = await api.user()
    response = await anon.get(
        "/users/me", headers={"Authorization": header}, cookies={"access_token": account.token}
    )
    assert response.status_code == 200
    without_cookie = await anon.get("/users/me", headers={"Authorization": header})
    assert without_cookie.status_code == 401
    assert without_cookie.json() == {"detail": "Not authenticated"}


async def test_missing_auth_is_401_not_authenticated(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/users/me")
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["www-authenticate"] == "Bearer"


async def test_auth_is_checked_before_validation(anon: httpx.AsyncClient) -> None:
    response = await anon.post("/tasks", json={"title": "   ", "priority": "urgent"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    response = await anon.get("/tasks?limit=0")
    assert response.status_code == 401
    response = await anon.get("/tasks/abc")
    assert response.status_code == 401


def _forge(secret: str, **claims: Any) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


async def test_token_checks(api: Any, anon: httpx.AsyncClient, container: Any) -> None:
    account = await api.user()
    secret = container.settings.secret_key
    now = int(time.time())
    valid = jwt.decode(account.token, secret, algorithms=["HS256"])

    async def status_of(token: str) -> tuple[int, Any]:
        response = await anon.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.headers.get("www-authenticate") == (
            "Bearer" if response.status_code == 401 else None
        )
        return response.status_code, response.json()

    # Expired.
    expired = _forge(secret, **{**valid, "exp": now - 10})
    assert await status_of(expired) == (401, INVALID_TOKEN)
    # Wrong signature.
    assert await status_of(_forge("another-secret-" + "y" * 32, **valid)) == (401, INVALID_TOKEN)
    # No `exp` is refused (D2).
    without_exp = {k: v for k, v in valid.items() if k != "exp"}
    assert (await status_of(_forge(secret, **without_exp)))[0] == 401
    # `alg: none` is refused (the algorithm is pinned).
    unsigned = jwt.encode(valid, key=None, algorithm="none")  # type: ignore[arg-type]
    assert await status_of(unsigned) == (401, INVALID_TOKEN)
    # Missing `sub`.
    without_sub = {k: v for k, v in valid.items() if k != "sub"}
    assert await status_of(_forge(secret, **without_sub)) == (
        401,
        {"detail": "Invalid token payload"},
    )
    # A `sub` naming nobody.
    ghost = _forge(secret, **{**valid, "sub": f"ghost_{uuid.uuid4().hex[:8]}"})
    assert await status_of(ghost) == (401, {"detail": "User not found"})
    # The genuine token still works.
    assert (await status_of(account.token))[0] == 200


# --------------------------------------------------------------------------- logout


async def test_logout_clears_cookie_and_revokes_the_token(api: Any, kit: Any) -> None:
    account = await api.user()
    other_token = await api.login(account.username)
    response = await api.client.post("/auth/logout", headers=account.auth)
    assert response.status_code == 200
    assert response.json() == {"message": "Logged out successfully"}
    name, value, attributes = cookie_attributes(response.headers["set-cookie"])
    assert name == "access_token"
    assert value in ("", '""')
    assert attributes["max-age"] == "0"
    assert attributes["path"] == "/"
    assert attributes["samesite"] == "lax"
    assert "httponly" in attributes
    assert "secure" not in attributes
    # The presented token is revoked (D3); another session of the same user is not.
    after = await api.client.get("/users/me", headers=account.auth)
    assert after.status_code == 401
    assert after.json() == INVALID_TOKEN
    still = await api.client.get("/users/me", headers={"Authorization": f"Bearer {other_token}"})
    assert still.status_code == 200


async def test_logout_by_cookie_revokes_the_cookie_token(api: Any, app: Any, kit: Any) -> None:
    account = await api.user()
    async with kit.new_client(app) as browser:
        await browser.post(
            "/auth/login", json={"username": account.username, "password": account.password}
        )
        token = browser.cookies["access_token"]
        response = await browser.post("/auth/logout", headers={"Origin": kit.allowed_origin})
        assert response.status_code == 200
        assert "access_token" not in browser.cookies
        revoked = await browser.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert revoked.status_code == 401


async def test_logout_without_session_is_fine(anon: httpx.AsyncClient) -> None:
    for _ in range(2):
        response = await anon.post("/auth/logout")
        assert response.status_code == 200
        assert response.json() == {"message": "Logged out successfully"}
    garbage = await anon.post("/auth/logout", headers={"Authorization": "Bearer garbage"})
    assert garbage.status_code == 200


# --------------------------------------------------------------------------- password reset


async def test_reset_request_answers_the_same_for_known_and_unknown(
    api: Any, mail: Any, kit: Any
) -> None:
    account = await api.user()
    known = await api.client.post("/auth/password-reset/request", json={"email": account.email})
    unknown_address = f"{kit.unique('nobody')}@example.com"
    unknown = await api.client.post("/auth/password-reset/request", json={"email": unknown_address})
    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json() == RESET_SENT
    assert await mail.subjects(account.email) == ["Reset your FAROS password"]
    assert await mail.subjects(unknown_address) == []


async def test_reset_request_validation(client: httpx.AsyncClient) -> None:
    response = await client.post("/auth/password-reset/request", json={})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "email"]


async def test_password_reset_flow(api: Any, mail: Any, anon: httpx.AsyncClient) -> None:
    account = await api.user()
    client = api.client
    await client.post("/auth/password-reset/request", json={"email": account.email})
    token = await mail.token_for(account.email, "/password-reset")
    assert len(token) == 43

    # A too-short password is refused before the token is looked at, and the token survives.
    short = await anon.post(
        "/auth/password-reset/verify", json={"token": token, "new_password": "short"}
    )
    assert short.status_code == 422
    assert short.json()["errors"][0]["loc"] == ["body", "new_password"]

    done = await anon.post(
        "/auth/password-reset/verify", json={"token": token, "new_password": "brand-new-pass"}
    )
    assert done.status_code == 200
    assert done.json() == RESET_DONE

    again = await anon.post(
        "/auth/password-reset/verify", json={"token": token, "new_password": "another-pass-1"}
    )
    assert again.status_code == 400
    assert again.json() == {"detail": "Invalid or expired reset token"}

    # D3: the token issued before the reset is void.
    old = await anon.get("/users/me", headers=account.auth)
    assert old.status_code == 401
    assert old.json() == INVALID_TOKEN

    bad = await anon.post(
        "/auth/login", json={"username": account.username, "password": account.password}
    )
    assert bad.status_code == 401
    good = await anon.post(
        "/auth/login", json={"username": account.username, "password": "brand-new-pass"}
    )
    assert good.status_code == 200


async def test_reset_verify_unknown_token(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/auth/password-reset/verify",
        json={"token": "x" * 43, "new_password": "long-enough-1"},
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid or expired reset token"}


@pytest.mark.postgres
async def test_reset_verify_expired_token(api: Any, mail: Any, engine: AsyncEngine) -> None:
    account = await api.user()
    await api.client.post("/auth/password-reset/request", json={"email": account.email})
    token = await mail.token_for(account.email, "/password-reset")
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE faros.users SET password_reset_token_expires = now() - interval '1 minute'"
                " WHERE id = :id"
            ),
            {"id": account.id},
        )
    payload = {"token": token, "new_password": "long-enough-1"}
    response = await api.client.post("/auth/password-reset/verify", json=payload)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Password reset link has expired. Please request a new one."
    }
    # The stale token is left in place: asking again gives the same answer.
    response = await api.client.post("/auth/password-reset/verify", json=payload)
    assert response.json()["detail"].startswith("Password reset link has expired")


async def test_second_reset_request_replaces_the_first_token(api: Any, mail: Any) -> None:
    account = await api.user()
    await api.client.post("/auth/password-reset/request", json={"email": account.email})
    first = await mail.token_for(account.email, "/password-reset")
    await api.client.post("/auth/password-reset/request", json={"email": account.email})
    second = await mail.token_for(account.email, "/password-reset")
    assert first != second
    stale = await api.client.post(
        "/auth/password-reset/verify", json={"token": first, "new_password": "long-enough-1"}
    )
    assert stale.status_code == 400
    fresh = await api.client.post(
        "/auth/password-reset/verify", json={"token": second, "new_password": "long-enough-1"}
    )
    assert fresh.status_code == 200


async def test_reset_mail_is_delivered_by_the_outbox_worker(
    api: Any, container: Any, outbox_dir: Any, kit: Any
) -> None:
    account = await api.user()
    await api.client.post("/auth/password-reset/request", json={"email": account.email})
    while await container.outbox.run_once():
        pass
    found = []
    for path in sorted(outbox_dir.glob("*.eml")):
        message = kit.read_eml(path)
        if message["To"] == account.email:
            found.append(message)
    assert len(found) == 1
    message = found[0]
    assert message["Subject"] == "Reset your FAROS password"
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None
    content = plain.get_content()
    assert f"{kit.frontend}/password-reset?token=" in content
    html = message.get_body(preferencelist=("html",))
    assert html is not None

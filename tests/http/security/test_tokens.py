"""Token and session attacks at the HTTP level (API.md §1.3-1.5, D2, D3, D4; OWASP API2:2023).

Every forged, stale or revoked credential is answered 401 with `WWW-Authenticate: Bearer` and
the contract's detail, by bearer header and by cookie alike. Cookie writes from a foreign
origin are refused for every unsafe route of the app.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar import Litestar

INVALID = {"detail": "Invalid or expired token"}
BAD_PAYLOAD = {"detail": "Invalid token payload"}
NO_USER = {"detail": "User not found"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(payload).encode())
    return f"{head}.{body}."


def _claims(username: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": username,
        "exp": now + 600,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "ver": 0,
    }
    for key, value in changes.items():
        if value is ...:
            claims.pop(key)
        else:
            claims[key] = value
    return claims


Forge = Callable[[str, str], str]


def _tampered(secret: str, username: str) -> str:
    token = jwt.encode(_claims(username), secret, algorithm="HS256")
    head, body, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}.{body}.{flipped}"


def _payload_swapped(secret: str, username: str) -> str:
    # A genuine signature over someone else's payload.
    genuine = jwt.encode(_claims(username), secret, algorithm="HS256").split(".")
    other = _b64(json.dumps(_claims(username + "x")).encode())
    return f"{genuine[0]}.{other}.{genuine[2]}"


def _rs256(_: str, username: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(_claims(username), key, algorithm="RS256")


ATTACKS: list[tuple[str, Forge, dict[str, str]]] = [
    ("tampered signature", _tampered, INVALID),
    ("payload swapped under a real signature", _payload_swapped, INVALID),
    ("alg none", lambda _, u: _unsigned({"alg": "none", "typ": "JWT"}, _claims(u)), INVALID),
    ("alg None spelled oddly", lambda _, u: _unsigned({"alg": "nOnE"}, _claims(u)), INVALID),
    ("HS512 with the real secret", lambda s, u: jwt.encode(_claims(u), s, "HS512"), INVALID),
    ("HS384 with the real secret", lambda s, u: jwt.encode(_claims(u), s, "HS384"), INVALID),
    ("RS256 with a key of its own", _rs256, INVALID),
    ("HS256 with another secret", lambda _, u: jwt.encode(_claims(u), "x" * 40, "HS256"), INVALID),
    ("missing exp", lambda s, u: jwt.encode(_claims(u, exp=...), s, "HS256"), INVALID),
    ("exp as a string", lambda s, u: jwt.encode(_claims(u, exp="9999999999"), s, "HS256"), INVALID),
    ("exp true", lambda s, u: jwt.encode(_claims(u, exp=True), s, "HS256"), INVALID),
    (
        "exp far beyond year 9999",
        lambda s, u: jwt.encode(_claims(u, exp=10**30), s, "HS256"),
        INVALID,
    ),
    ("expired", lambda s, u: jwt.encode(_claims(u, exp=int(time.time()) - 1), s, "HS256"), INVALID),
    ("missing sub", lambda s, u: jwt.encode(_claims(u, sub=...), s, "HS256"), BAD_PAYLOAD),
    ("empty sub", lambda s, u: jwt.encode(_claims(u, sub=""), s, "HS256"), BAD_PAYLOAD),
    ("int sub", lambda s, u: _int_sub(s), INVALID),
    ("sub of nobody", lambda s, u: jwt.encode(_claims(u + "-gone"), s, "HS256"), NO_USER),
    ("sub with NUL", lambda s, u: jwt.encode(_claims(u + "\x00"), s, "HS256"), NO_USER),
    ("ver from the future", lambda s, u: jwt.encode(_claims(u, ver=1), s, "HS256"), INVALID),
    ("ver as a string", lambda s, u: jwt.encode(_claims(u, ver="0"), s, "HS256"), BAD_PAYLOAD),
    ("not a JWT", lambda _, u: "not.a.jwt", INVALID),
    ("garbage bytes", lambda _, u: "\u00ff" * 40, INVALID),
]


def _int_sub(secret: str) -> str:
    # PyJWT refuses to encode a non-string sub; sign the bytes by hand.
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps({"sub": 12345, "exp": int(time.time()) + 600}).encode())
    signing_input = f"{header}.{payload}".encode()
    import hashlib
    import hmac

    signature = _b64(hmac.new(secret.encode(), signing_input, hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


async def _refused(
    client: httpx.AsyncClient, token: str, expected: dict[str, str], *, cookie: bool
) -> None:
    client.cookies.clear()
    # Raw latin-1 header bytes, so a token with non-ASCII octets reaches the server as sent.
    raw = token.encode("latin-1")
    header = (b"cookie", b"access_token=" + raw) if cookie else (b"authorization", b"Bearer " + raw)
    response = await client.get("/users/me", headers=[header])
    assert response.status_code == 401, (token, response.text)
    assert response.json() == expected
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("transport", ["bearer", "cookie"])
@pytest.mark.parametrize(("name", "forge", "expected"), ATTACKS, ids=[a[0] for a in ATTACKS])
async def test_forged_tokens_are_refused(
    name: str,
    forge: Forge,
    expected: dict[str, str],
    transport: str,
    api: Any,
    anon: httpx.AsyncClient,
    container: Any,
) -> None:
    victim = await api.user("tok")
    secret = container.settings.secret_key
    # The genuine token works, so each refusal below is about the forgery alone.
    me = await anon.get("/users/me", headers=victim.auth)
    assert me.status_code == 200
    await _refused(anon, forge(secret, victim.username), expected, cookie=transport == "cookie")


async def test_token_revoked_by_logout(api: Any, anon: httpx.AsyncClient) -> None:
    victim = await api.user("tok")
    other_session = await api.login(victim.username)
    logout = await anon.post("/auth/logout", headers=victim.auth)
    assert logout.status_code == 200
    await _refused(anon, victim.token, INVALID, cookie=False)
    await _refused(anon, victim.token, INVALID, cookie=True)
    # Only the presented token is revoked: the user's other session lives on.
    assert (
        await anon.get("/users/me", headers={"Authorization": f"Bearer {other_session}"})
    ).status_code == 200


async def test_logging_out_a_legacy_token_revokes_that_token_alone(
    api: Any, anon: httpx.AsyncClient, container: Any
) -> None:
    """D22: tokens of the original FAROS (only `sub` and `exp`) are revoked one by one."""
    secret = container.settings.secret_key
    alice, bob = await api.user("leg"), await api.user("leg")
    exp = int(time.time()) + 600

    def legacy(username: str, expires: int) -> str:
        return jwt.encode({"sub": username, "exp": expires}, secret, algorithm="HS256")

    tokens = {
        "alice": legacy(alice.username, exp),
        "alice again": legacy(alice.username, exp + 1),  # same user, another token
        "bob": legacy(bob.username, exp),
    }

    async def works(token: str) -> bool:
        response = await anon.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        return response.status_code == 200

    # Every token is used once first, so the process's authentication cache holds each of them.
    assert [await works(token) for token in tokens.values()] == [True, True, True]
    logout = await anon.post("/auth/logout", headers={"Authorization": f"Bearer {tokens['alice']}"})
    assert logout.status_code == 200
    await _refused(anon, tokens["alice"], INVALID, cookie=False)
    await _refused(anon, tokens["alice"] + "=", INVALID, cookie=True)  # a padded spelling
    assert await works(tokens["alice again"])
    assert await works(tokens["bob"])


async def test_token_issued_before_a_password_change(
    api: Any, anon: httpx.AsyncClient, kit: Any
) -> None:
    victim = await api.user("tok")
    second = await api.login(victim.username)
    changed = await anon.patch(
        "/users/me/change-password",
        json={"current_password": kit.password, "new_password": "a-new-password-2"},
        headers=victim.auth,
    )
    assert changed.status_code == 200, changed.text
    fresh = changed.cookies.get("access_token")
    anon.cookies.clear()
    for stale in (victim.token, second):
        await _refused(anon, stale, INVALID, cookie=False)
        await _refused(anon, stale, INVALID, cookie=True)
    assert fresh
    assert (
        await anon.get("/users/me", headers={"Authorization": f"Bearer {fresh}"})
    ).status_code == 200


async def test_token_issued_before_a_password_reset(
    api: Any, anon: httpx.AsyncClient, mail: Any
) -> None:
    victim = await api.user("tok")
    asked = await anon.post("/auth/password-reset/request", json={"email": victim.email})
    assert asked.status_code == 200
    reset_token = await mail.token_for(victim.email, "/password-reset")
    done = await anon.post(
        "/auth/password-reset/verify",
        json={"token": reset_token, "new_password": "reset-password-3"},
    )
    assert done.status_code == 200, done.text
    await _refused(anon, victim.token, INVALID, cookie=False)
    await _refused(anon, victim.token, INVALID, cookie=True)
    assert await api.login(victim.username, "reset-password-3")


# --- D4: cookie writes from a foreign origin ----------------------------------------------------

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _unsafe_routes(application: Litestar) -> list[tuple[str, str]]:
    found = []
    for route in application.routes:
        for method in sorted(getattr(route, "methods", set()) & UNSAFE):
            found.append((method, route.path))
    return found


async def test_every_cookie_write_from_a_foreign_origin_is_refused(
    app: Litestar, api: Any, anon: httpx.AsyncClient, kit: Any
) -> None:
    owner = await api.user("csrf")
    task = await api.task(owner, title="csrf target")
    routes = _unsafe_routes(app)
    assert len(routes) >= 25  # every write of the contract, not a sample
    for method, template in routes:
        path = (
            template.replace("{task_id:str}", str(task["id"]))
            .replace("{comment_id:str}", "1")
            .replace("{file_id:str}", "1")
            .replace("{username:str}", "someone")
            .replace("{tag:str}", "t")
        )
        # Amended D4: a foreign Referer alone and a request with no Origin and no Fetch
        # Metadata are no longer refused (no browser sends them); Sec-Fetch-Site is.
        for headers in (
            {"Origin": kit.foreign_origin},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "cross-site"},
            {"Sec-Fetch-Site": "same-site"},
            {"Sec-Fetch-Site": "same-origin", "Origin": kit.foreign_origin},
        ):
            anon.cookies.clear()
            anon.cookies.set("access_token", owner.token)
            response = await anon.request(method, path, headers=headers, json={"title": "x"})
            anon.cookies.clear()
            assert response.status_code == 403, (method, path, headers, response.text)
            assert response.json() == {"detail": "Cross-site request refused"}
    # Nothing was changed by any of them: the task is intact.
    check = await anon.get(f"/tasks/{task['id']}", headers=owner.auth)
    assert check.status_code == 200
    assert check.json()["title"] == "csrf target"
    # The same cookie from the allowed origin works, so the refusals were about the origin.
    anon.cookies.set("access_token", owner.token)
    allowed = await anon.patch(
        f"/tasks/{task['id']}", json={"title": "renamed"}, headers={"Origin": kit.allowed_origin}
    )
    anon.cookies.clear()
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["title"] == "renamed"

"""`/users/*` (§3.9) with D3, D9, D12; avatars only as a smoke test (storage has its own suite)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7V\x1d\xc5"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


async def test_profile_shape(api: Any) -> None:
    account = await api.user()
    response = await api.get(account, "/users/me")
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["id", "username", "email", "avatar_url", "email_verified", "created_at"]
    assert body["id"] == account.id
    assert body["username"] == account.username
    assert body["email"] == account.email
    assert body["avatar_url"] is None
    assert body["email_verified"] is False
    assert body["created_at"].endswith("Z")
    assert "password" not in response.text
    assert "hashed" not in response.text


# --------------------------------------------------------------------------- change password


async def test_change_password_wrong_current_is_400(api: Any) -> None:
    account = await api.user()
    response = await api.client.patch(
        "/users/me/change-password",
        json={"current_password": "not-the-password", "new_password": "another-pass-1"},
        headers=account.auth,
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Current password is incorrect"}
    assert "www-authenticate" not in response.headers
    # Nothing changed: the session and the old password still work.
    assert (await api.get(account, "/users/me")).status_code == 200
    assert await api.login(account.username, account.password)


async def test_change_password_validation(api: Any) -> None:
    account = await api.user()
    response = await api.client.patch(
        "/users/me/change-password",
        json={"current_password": account.password, "new_password": "short"},
        headers=account.auth,
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "new_password: String should have at least 8 characters"


async def test_change_password_revokes_old_tokens_and_sets_new_cookie(
    api: Any, anon: httpx.AsyncClient
) -> None:
    account = await api.user()
    second_session = await api.login(account.username, account.password)
    response = await api.client.patch(
        "/users/me/change-password",
        json={"current_password": account.password, "new_password": "another-pass-1"},
        headers=account.auth,
    )
    assert response.status_code == 200
    assert response.json() == {"message": "Password changed successfully"}
    # D3: every earlier token is void, including other sessions.
    for token in (account.token, second_session):
        old = await anon.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert old.status_code == 401
        assert old.json() == {"detail": "Invalid or expired token"}
    # The answer's fresh cookie keeps the caller logged in.
    fresh = response.cookies.get("access_token")
    assert fresh
    me = await anon.get("/users/me", cookies={"access_token": fresh})
    assert me.status_code == 200
    assert me.json()["username"] == account.username
    # Passwords: the new one works, the old one does not.
    assert await api.login(account.username, "another-pass-1")
    refused = await api.client.post(
        "/auth/login", json={"username": account.username, "password": account.password}
    )
    assert refused.status_code == 401


# --------------------------------------------------------------------------- search


async def test_search_is_case_insensitive_and_excludes_caller(api: Any) -> None:
    tag = uuid.uuid4().hex[:10]
    me = await api.user(f"Srch{tag}a")
    others = [await api.user(f"srch{tag}{suffix}") for suffix in ("b", "c")]
    response = await api.get(me, "/users/search", params={"query": f"SRCH{tag.upper()}"})
    assert response.status_code == 200
    found = response.json()
    assert found == sorted(
        ({"id": o.id, "username": o.username} for o in others), key=lambda u: u["username"]
    )
    assert all(list(item) == ["id", "username"] for item in found)


async def test_search_escapes_like_wildcards(api: Any) -> None:
    tag = uuid.uuid4().hex[:10]
    me = await api.user(f"wild{tag}")
    dotted = await api.user(f"wild{tag}x_y")
    await api.user(f"wild{tag}xzy")
    # `%` matches nothing literally (no username can hold it).
    response = await api.get(me, "/users/search", params={"query": "%"})
    assert response.status_code == 200
    assert response.json() == []
    # `_` is literal: `x_y` finds only the name with an underscore there.
    response = await api.get(me, "/users/search", params={"query": f"{tag}x_y"})
    assert [u["username"] for u in response.json()] == [dotted.username]


async def test_search_limit(api: Any) -> None:
    tag = uuid.uuid4().hex[:10]
    me = await api.user(f"lim{tag}")
    for index in range(3):
        await api.user(f"lim{tag}{index}")
    response = await api.get(me, "/users/search", params={"query": tag, "limit": 2})
    assert response.status_code == 200
    assert len(response.json()) == 2
    response = await api.get(me, "/users/search", params={"query": tag})
    assert len(response.json()) == 3


@pytest.mark.parametrize(
    ("params", "loc", "kind"),
    [
        ({}, ["query", "query"], "missing"),
        ({"query": ""}, ["query", "query"], "string_too_short"),
        ({"query": "a", "limit": 0}, ["query", "limit"], "greater_than_equal"),
        ({"query": "a", "limit": 51}, ["query", "limit"], "less_than_equal"),
        ({"query": "a", "limit": "ten"}, ["query", "limit"], "int_parsing"),
    ],
)
async def test_search_validation(
    api: Any, params: dict[str, Any], loc: list[str], kind: str
) -> None:
    account = await api.user()
    response = await api.get(account, "/users/search", params=params)
    assert response.status_code == 422
    body = response.json()
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [(loc, kind)]
    assert body["detail"].startswith(f"{loc[1]}: ")


async def test_search_limit_bounds_accepted(api: Any) -> None:
    account = await api.user()
    for limit in (1, 50):
        response = await api.get(account, "/users/search", params={"query": "x", "limit": limit})
        assert response.status_code == 200


# --------------------------------------------------------------------------- avatars (smoke)


async def test_avatar_upload_and_public_download(api: Any, anon: httpx.AsyncClient) -> None:
    account = await api.user()
    response = await api.client.post(
        "/users/me/avatar", files={"file": ("Me.PNG", PNG, "image/png")}, headers=account.auth
    )
    assert response.status_code == 200, response.text
    url = f"/users/{account.id}/avatar.png"
    assert response.json() == {"avatar_url": url}
    assert (await api.get(account, "/users/me")).json()["avatar_url"] == url
    image = await anon.get(url)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.content == PNG


async def test_avatar_rejects_non_images_and_unknown_avatars(
    api: Any, anon: httpx.AsyncClient
) -> None:
    account = await api.user()
    response = await api.client.post(
        "/users/me/avatar", files={"file": ("a.png", b"text", "image/png")}, headers=account.auth
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "File must be an image"}
    missing = await anon.get(f"/users/{account.id}/avatar.png")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Avatar not found"}
    bare = await anon.get(f"/users/{account.id}/avatar")
    assert bare.status_code == 404
    assert bare.json() == {"detail": "Not Found"}


async def test_avatar_upload_needs_auth_and_file(api: Any, anon: httpx.AsyncClient) -> None:
    response = await anon.post("/users/me/avatar", files={"file": ("a.png", PNG, "image/png")})
    assert response.status_code == 401
    account = await api.user()
    response = await api.client.post(
        "/users/me/avatar", files={"other": ("a.png", PNG, "image/png")}, headers=account.auth
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"type": "missing", "loc": ["body", "file"], "msg": "Field required", "input": None}
    ]

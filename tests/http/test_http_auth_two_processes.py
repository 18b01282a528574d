"""Two server processes (two apps on one database, no Redis): a logout or a password change
made through one is honoured by the other, although each remembers whom it authenticated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

pytestmark = pytest.mark.postgres

NOTICE_SECONDS = 5.0  # a notification normally arrives within milliseconds


@pytest.fixture
async def two_apps(
    database_url: str, kit: Any, tmp_path_factory: Any
) -> AsyncIterator[tuple[Litestar, Litestar]]:
    apps = [
        kit.build_app(kit.make_settings(tmp_path_factory.mktemp(name)), database_url)
        for name in ("one", "two")
    ]
    async with kit.running(apps[0]), kit.running(apps[1]):
        yield apps[0], apps[1]


async def _refused_soon(client: httpx.AsyncClient, token: str) -> httpx.Response:
    """GET /users/me until the token is refused (the other process hears of it by NOTIFY)."""
    async with asyncio.timeout(NOTICE_SECONDS):
        while True:
            answer = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
            if answer.status_code != 200:
                return answer
            await asyncio.sleep(0.005)


async def _warm(client: httpx.AsyncClient, token: str) -> None:
    """Authenticate a few times, so the process has the user in its cache."""
    for _ in range(3):
        answer = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200


async def test_a_logout_through_one_process_is_honoured_by_the_other(
    two_apps: tuple[Litestar, Litestar], kit: Any
) -> None:
    one, two = two_apps
    async with kit.new_client(one) as via_one, kit.new_client(two) as via_two:
        api = kit.Api(via_one)
        account = await api.user()
        await _warm(via_two, account.token)
        logout = await via_one.post("/auth/logout", headers=account.auth)
        assert logout.status_code == 200
        # At once in the process that made the change ...
        mine = await via_one.get("/users/me", headers=account.auth)
        assert mine.status_code == 401
        # ... and as soon as the notification arrives in the other.
        theirs = await _refused_soon(via_two, account.token)
        assert theirs.status_code == 401
        assert theirs.json() == {"detail": "Invalid or expired token"}


async def test_a_password_change_through_one_process_voids_old_tokens_in_the_other(
    two_apps: tuple[Litestar, Litestar], kit: Any
) -> None:
    one, two = two_apps
    async with kit.new_client(one) as via_one, kit.new_client(two) as via_two:
        api = kit.Api(via_one)
        account = await api.user()
        await _warm(via_two, account.token)
        changed = await via_one.patch(
            "/users/me/change-password",
            headers=account.auth,
            json={"current_password": account.password, "new_password": "a-new-password-9"},
        )
        assert changed.status_code == 200
        theirs = await _refused_soon(via_two, account.token)
        assert theirs.status_code == 401

"""Two server processes (two apps on one database, each with its own authentication cache):
a token revoked through one is refused by the other within a second."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

from faros.domain.api_tokens import secret_hash

pytestmark = pytest.mark.postgres

WITHIN_SECONDS = 1.0  # the bound; the NOTIFY normally arrives within milliseconds


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


async def _cached_in(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """Use the token until the process answers from its cache (its listener is up)."""
    for _ in range(20):
        answer = await client.get("/tasks", headers=headers)
        assert answer.status_code == 200
        await asyncio.sleep(0.01)


async def _seconds_until_refused(client: httpx.AsyncClient, headers: dict[str, str]) -> float:
    started = time.monotonic()
    async with asyncio.timeout(5):
        while True:
            answer = await client.get("/tasks", headers=headers)
            if answer.status_code != 200:
                assert answer.status_code == 401
                assert answer.json() == {"detail": "Invalid or expired token"}
                return time.monotonic() - started
            await asyncio.sleep(0.005)


async def test_a_token_revoked_through_one_process_is_refused_by_the_other(
    two_apps: tuple[Litestar, Litestar], kit: Any
) -> None:
    one, two = two_apps
    async with kit.new_client(one) as via_one, kit.new_client(two) as via_two:
        alice = await kit.Api(via_one).user()
        made = await via_one.post(
            "/tokens",
            json={"name": "ci", "scopes": ["tasks:read"], "expires_in_days": 7},
            headers=alice.auth,
        )
        assert made.status_code == 201
        secret = {"Authorization": f"Bearer {made.json()['token']}"}
        await _cached_in(via_two, secret)
        # The other process answers from its cache: only the notification can change that.
        cache = two.state.container.accounts._uow.auth_cache
        assert cache.get_token(secret_hash(made.json()["token"])) is not None
        revoked = await via_one.delete(f"/tokens/{made.json()['id']}", headers=alice.auth)
        assert revoked.status_code == 204
        # At once in the process that revoked it ...
        assert (await via_one.get("/tasks", headers=secret)).status_code == 401
        # ... and within a second in the other, which had it cached.
        assert await _seconds_until_refused(via_two, secret) < WITHIN_SECONDS


async def test_a_password_reset_through_one_process_voids_tokens_in_the_other(
    two_apps: tuple[Litestar, Litestar], kit: Any, engine: Any
) -> None:
    one, two = two_apps
    async with kit.new_client(one) as via_one, kit.new_client(two) as via_two:
        alice = await kit.Api(via_one).user()
        made = await via_one.post(
            "/tokens",
            json={"name": "ci", "scopes": ["tasks:read"], "expires_in_days": 7},
            headers=alice.auth,
        )
        secret = {"Authorization": f"Bearer {made.json()['token']}"}
        await _cached_in(via_two, secret)
        container = one.state.container
        await via_one.post("/auth/password-reset/request", json={"email": alice.email})
        while await container.outbox.run_once():
            pass
        link = await _reset_link(engine, alice.email)
        reset = await via_one.post(
            "/auth/password-reset/verify", json={"token": link, "new_password": "reset-pass-9"}
        )
        assert reset.status_code == 200, reset.text
        assert await _seconds_until_refused(via_two, secret) < WITHIN_SECONDS


async def _reset_link(engine: Any, address: str) -> str:
    import re
    from urllib.parse import unquote

    from sqlalchemy import text

    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT payload FROM faros.outbox WHERE kind = 'send_email' "
                "AND payload->>'to' = :to ORDER BY id DESC"
            ),
            {"to": address},
        )
        for row in rows:
            found = re.search(r"/password-reset\?token=([A-Za-z0-9_\-%.~]+)", row.payload["text"])
            if found:
                return unquote(found.group(1))
    raise AssertionError("no reset e-mail")

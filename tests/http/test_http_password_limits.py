"""Routes that hash a password: the change-password limit, the password budget shared by login,
register, change-password and reset (per address and per account), and the hasher's turns.

The apps here hash with the production argon2 parameters (about 20 ms a hash at the lowest
priority): a flood must cost what it costs in production for its effect on others to show.
Each test speaks from client addresses of its own, so the per-address budgets never meet.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

from faros.adapters.security.argon2_hasher import Argon2PasswordHasher

pytestmark = pytest.mark.postgres

_addresses = itertools.count(1)
WRONG_CHANGE = {"current_password": "not-the-password", "new_password": "another-pass-1"}
BUDGET_REFUSAL = {"error": "Rate limit exceeded: 10 per 1 minute"}
# A login beside the flood, however busy the machine: before the fix it waited behind the
# flood's whole backlog (seconds); now behind at most the hash in progress and its own.
LOGIN_DEADLINE_SECONDS = 1.0


def _address() -> str:
    number = next(_addresses)
    return f"10.30.{number // 250}.{number % 250 + 1}"


@pytest.fixture(scope="module")
async def owasp_hasher() -> AsyncIterator[Argon2PasswordHasher]:
    hasher = Argon2PasswordHasher()
    yield hasher
    await hasher.aclose()


async def _app(
    database_url: str, kit: Any, folder: Any, hasher: Argon2PasswordHasher, *, limits: bool
) -> AsyncIterator[Litestar]:
    from faros.entrypoints.http.app import create_app

    settings = kit.make_settings(folder, rate_limits=limits, redis_url=None)
    async with kit.running(create_app(settings, database_url=database_url, hasher=hasher)) as app:
        yield app


@pytest.fixture(scope="module")
async def limited_app(
    database_url: str, kit: Any, tmp_path_factory: Any, owasp_hasher: Argon2PasswordHasher
) -> AsyncIterator[Litestar]:
    folder = tmp_path_factory.mktemp("faros-password-limits")
    async for app in _app(database_url, kit, folder, owasp_hasher, limits=True):
        yield app


@pytest.fixture(scope="module")
async def unlimited_app(
    database_url: str, kit: Any, tmp_path_factory: Any, owasp_hasher: Argon2PasswordHasher
) -> AsyncIterator[Litestar]:
    folder = tmp_path_factory.mktemp("faros-password-no-limits")
    async for app in _app(database_url, kit, folder, owasp_hasher, limits=False):
        yield app


def _assert_refused(response: httpx.Response, body: dict[str, str], policy: str) -> None:
    assert response.status_code == 429, response.text
    assert response.json() == body
    retry_after = response.headers["retry-after"]
    assert 1 <= int(retry_after) <= 60
    assert response.headers["ratelimit-policy"] == policy
    assert response.headers["ratelimit"] == f'"{policy.split(";")[0][1:-1]}";r=0;t={retry_after}'


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    client.cookies.clear()
    return await client.post("/auth/login", json={"username": username, "password": password})


async def _change(client: httpx.AsyncClient, account: Any) -> httpx.Response:
    return await client.patch("/users/me/change-password", json=WRONG_CHANGE, headers=account.auth)


async def _login_beside_a_flood(app: Litestar, kit: Any, flood_size: int) -> list[int]:
    """One account floods change-password with wrong passwords; another user, elsewhere,
    logs in meanwhile. Asserts the login's time; returns the flood's statuses."""
    async with (
        kit.new_client(app, client_ip=_address()) as attacker,
        kit.new_client(app, client_ip=_address()) as elsewhere,
    ):
        flooder = await kit.Api(attacker).user()
        victim = await kit.Api(elsewhere).register()
        # The flooder's token is known to the process: the flood goes straight to the hasher.
        assert (await attacker.get("/users/me", headers=flooder.auth)).status_code == 200
        flood = [asyncio.create_task(_change(attacker, flooder)) for _ in range(flood_size)]
        # Once the first answer is back, the rest of the flood has queued (or been refused).
        await asyncio.wait(flood, return_when=asyncio.FIRST_COMPLETED)
        started = time.perf_counter()
        login = await _login(elsewhere, victim["username"], kit.password)
        took = time.perf_counter() - started
        statuses = [response.status_code for response in await asyncio.gather(*flood)]
    assert login.status_code == 200, login.text
    assert took < LOGIN_DEADLINE_SECONDS, (took, Counter(statuses))
    return statuses


async def test_a_change_password_flood_leaves_others_logins_fast(
    limited_app: Litestar, kit: Any
) -> None:
    statuses = await _login_beside_a_flood(limited_app, kit, 100)
    # Five a minute per user are checked (and hash); the rest are refused before hashing.
    assert Counter(statuses) == {400: 5, 429: 95}


async def test_without_limits_the_hasher_still_takes_callers_in_turn(
    unlimited_app: Litestar, kit: Any
) -> None:
    # As many as the attack pass sent at the least (60-240): the flood queues at the hasher.
    statuses = await _login_beside_a_flood(unlimited_app, kit, 60)
    assert statuses == [400] * 60


async def test_change_password_five_a_minute_per_user(limited_app: Litestar, kit: Any) -> None:
    async with kit.new_client(limited_app, client_ip=_address()) as client:
        api = kit.Api(client)
        account, neighbour = await api.user(), await api.user()
        # Refused by validation: not counted.
        short = {"current_password": account.password, "new_password": "short"}
        for _ in range(3):
            invalid = await client.patch(
                "/users/me/change-password", json=short, headers=account.auth
            )
            assert invalid.status_code == 422
        for _ in range(5):
            assert (await _change(client, account)).status_code == 400
        sixth = await client.patch(
            "/users/me/change-password",
            json={"current_password": account.password, "new_password": "another-pass-1"},
            headers=account.auth,
        )
        _assert_refused(
            sixth, {"error": "Rate limit exceeded: 5 per 1 minute"}, '"change-password";q=5;w=60'
        )
        assert "set-cookie" not in sixth.headers
        # Another user at the same address has a limit of his own.
        assert (await _change(client, neighbour)).status_code == 400
    async with kit.new_client(limited_app, client_ip=_address()) as elsewhere:
        # The refused change changed nothing.
        assert (await _login(elsewhere, account.username, account.password)).status_code == 200


async def test_the_password_budget_of_an_address_spans_routes(
    limited_app: Litestar, kit: Any
) -> None:
    async with (
        kit.new_client(limited_app, client_ip=_address()) as home,
        kit.new_client(limited_app, client_ip=_address()) as shared,
    ):
        account = await kit.Api(home).user()
        # From one address: five logins (that route's limit) and five reset attempts (that
        # route's limit) are ten hashes, each route within its own limit...
        for _ in range(5):
            assert (await _login(shared, kit.unique("nobody"), "whatever-1")).status_code == 401
        for _ in range(5):
            reset = await shared.post(
                "/auth/password-reset/verify", json={"token": "nope", "new_password": "pass-word-1"}
            )
            assert reset.status_code == 400
        # ...and the address's hashing is spent: a password change from there is refused,
        # though the user has not changed his password once.
        refused = await _change(shared, account)
        _assert_refused(refused, BUDGET_REFUSAL, '"passwords";q=10;w=60')
        # From his usual address he still may.
        assert (await _change(home, account)).status_code == 400


@pytest.mark.parametrize("exists", [True, False], ids=["account", "no-such-account"])
async def test_the_password_budget_of_an_account_spans_addresses(
    limited_app: Litestar, kit: Any, exists: bool
) -> None:
    async with kit.new_client(limited_app, client_ip=_address()) as home:
        api = kit.Api(home)
        if exists:
            account = await api.user()  # its login counts: 1
            username = account.username
            # Two wrong password changes count for the same account: 3.
            for _ in range(2):
                assert (await _change(home, account)).status_code == 400
        else:
            username = kit.unique("ghost")
            for _ in range(3):
                assert (await _login(home, username, "wrong-password")).status_code == 401
    statuses = []
    # Guesses from three addresses, each well within its own login limit (5 a minute).
    for address in (_address(), _address(), _address()):
        async with kit.new_client(limited_app, client_ip=address) as client:
            for _ in range(3):
                response = await _login(client, username, "wrong-password")
                statuses.append(response.status_code)
    # Ten hashes a minute per account, whether or not it exists: the answers are the same.
    assert statuses == [401] * 7 + [429] * 2
    _assert_refused(response, BUDGET_REFUSAL, '"passwords";q=10;w=60')
    async with kit.new_client(limited_app, client_ip=_address()) as fresh:
        # The right password is refused too (the budget is the account's), and says so.
        refused = await _login(fresh, username, kit.password)
        _assert_refused(refused, BUDGET_REFUSAL, '"passwords";q=10;w=60')

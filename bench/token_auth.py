"""Micro-benchmark: what authenticating with a personal access token adds per request.

Drives the real app in-process (httpx's ASGI transport, no sockets) on PostgreSQL, with the
production container (authentication cache on, rate limits off), and times `GET /users/me`
(the cheapest protected route, so the difference shows most) with a JWT and with an access
token, in alternating rounds; each variant's lowest CPU time per request is kept, since the
machine is shared.

    PYTHONPATH=src python bench/token_auth.py postgresql://postgres@127.0.0.1:5432/DB [--jwt-only]

The database must be migrated. `--jwt-only` runs on code without tokens (main), for an A/B of
the JWT path itself.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from litestar import Litestar

from faros.entrypoints.http.app import create_app
from faros.entrypoints.settings import Settings

ROUNDS = 7
REQUESTS = 1500
DIRECT_CALLS = 20000
PATH = "/users/me"


async def _round(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(REQUESTS):
        response = await client.get(PATH, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(response.text)
    return (
        (time.process_time() - cpu) / REQUESTS * 1e6,
        (time.perf_counter() - wall) / REQUESTS * 1e6,
    )


async def _direct(app: Litestar, variants: dict[str, dict[str, str]]) -> None:
    """The authentication step alone, as the guard calls it (less noise than whole requests):
    `authenticate` is the JWT path before tokens existed, `identify` the path now."""
    from faros.domain.api_tokens import allow
    from faros.entrypoints.http.scopes import requirement

    accounts = app.state.container.accounts
    jwt = variants["jwt"]["Authorization"].removeprefix("Bearer ")
    pat = variants["pat"]["Authorization"].removeprefix("Bearer ")
    calls = {
        "authenticate(jwt)": lambda: accounts.authenticate(jwt),
        "identify(jwt)": lambda: accounts.identify(jwt),
        "identify(pat)": lambda: accounts.identify(pat),
    }
    best: dict[str, float] = {}
    for _ in range(ROUNDS):
        for name, call in calls.items():
            started = time.process_time()
            for _ in range(DIRECT_CALLS):
                await call()
            spent = (time.process_time() - started) / DIRECT_CALLS * 1e6
            best[name] = min(best.get(name, spent), spent)
    started = time.process_time()
    for _ in range(DIRECT_CALLS):
        allow(("account:read",), requirement("/users/me", {}, "profile"))
    best["scope check"] = (time.process_time() - started) / DIRECT_CALLS * 1e6
    for name, spent in best.items():
        print(f"{name}: CPU us/call min {spent:.2f}")


async def main(url: str, jwt_only: bool) -> None:
    folder = Path(tempfile.mkdtemp())
    settings = Settings(
        environment="development",
        data_dir=folder,
        upload_dir=folder / "uploads",
        rate_limits=False,
        outbox_worker=False,
        email_provider="outbox-dir",
        secret_key="bench-secret-key-" + "x" * 32,
        redis_url=None,
    )
    app = create_app(settings, database_url=url)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            name = f"bench_{uuid.uuid4().hex[:10]}"
            password = "bench-password-1"  # noqa: S105 - a throw-away account
            body = {"username": name, "email": f"{name}@example.com", "password": password}
            await client.post("/auth/register", json=body)
            login = await client.post("/auth/login", json={"username": name, "password": password})
            client.cookies.clear()
            variants = {"jwt": {"Authorization": f"Bearer {login.json()['access_token']}"}}
            if not jwt_only:
                made = await client.post(
                    "/tokens",
                    json={"name": "bench", "scopes": ["account:read"], "expires_in_days": 1},
                    headers=variants["jwt"],
                )
                variants["pat"] = {"Authorization": f"Bearer {made.json()['token']}"}
            for headers in variants.values():  # warm-up: caches, the LISTEN connection
                await _round(client, headers)
            if not jwt_only:
                await _direct(app, variants)
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
            for _ in range(ROUNDS):
                for variant, headers in variants.items():
                    results[variant].append(await _round(client, headers))
    for variant, rounds in results.items():
        cpu = sorted(r[0] for r in rounds)
        wall = sorted(r[1] for r in rounds)
        print(
            f"{variant}: CPU us/req min {cpu[0]:.1f} median {statistics.median(cpu):.1f}; "
            f"wall us/req min {wall[0]:.1f} median {statistics.median(wall):.1f}"
        )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], "--jwt-only" in sys.argv))

"""A/B of POST /tasks without and with Idempotency-Key (issue 17): server CPU per request.

    PYTHONPATH=src python bench/idempotency/ab.py postgresql://postgres@127.0.0.1:5432/postgres

Starts `faros serve` (production settings, rate limits off) on a fresh database of that
server, creates one user, then alternates wrk runs of the three modes of create.lua (no key, a
fresh key each request, the same key: replays) and prints each mode's best CPU us/request of
the server process (the figure a shared machine disturbs least), req/s and latency.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

HERE = Path(__file__).parent
ROUNDS = int(os.environ.get("AB_ROUNDS", "5"))
SECONDS = os.environ.get("AB_SECONDS", "4")
CONNECTIONS = os.environ.get("AB_CONNECTIONS", "8")
MODES = tuple(os.environ.get("AB_MODES", "none,fresh,replay").split(","))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(server: str) -> None:
    name = f"faros_idem_ab_{secrets.token_hex(4)}"
    base_url, _, _ = server.rpartition("/")
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    url = f"{base_url}/{name}"
    port = 18000 + secrets.randbelow(1000)
    work = Path(tempfile.mkdtemp(prefix="idem-ab-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAROS_")}
    env.update(
        FAROS_ENVIRONMENT="production",
        FAROS_SECRET_KEY=secrets.token_urlsafe(48),
        FAROS_RATE_LIMITS="off",
        FAROS_OUTBOX_WORKER="on",
        FAROS_DATA_DIR=str(work / "data"),
        FAROS_DATABASE_URL=url,
        FAROS_HOST="127.0.0.1",
        FAROS_PORT=str(port),
        FAROS_WORKERS="1",
    )
    cli = [sys.executable, "-m", "faros.entrypoints.cli"]
    subprocess.run([*cli, "migrate"], env=env, check=True, cwd=work)  # noqa: S603
    log = (work / "server.log").open("wb")
    server_process = subprocess.Popen([*cli, "serve"], env=env, cwd=work, stdout=log, stderr=log)  # noqa: S603
    try:
        base = f"http://127.0.0.1:{port}"
        token = _user(base)
        # The replay mode's key is answered once beforehand (its first uses would be 409s).
        if "replay" in MODES:
            httpx.post(
                f"{base}/tasks",
                json={"title": "bench", "priority": "high", "tags": ["a", "b"]},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": '"the-one-key"'},
            ).raise_for_status()
        results: dict[str, list[tuple[float, float, int, int]]] = {mode: [] for mode in MODES}
        for _ in range(ROUNDS):
            for mode in MODES:
                before = cpu_seconds(server_process.pid)
                out = subprocess.run(  # noqa: S603
                    ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "-s", str(HERE / "create.lua"),
                     base, "--", token, mode],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                used = cpu_seconds(server_process.pid) - before
                line = next(x for x in out.stdout.splitlines() if x.startswith("BENCH "))
                requests, duration, p50, p99, errors = map(int, line.split()[1:])
                assert errors == 0, out.stdout
                results[mode].append((used * 1e6 / requests, requests / (duration / 1e6), p50, p99))
        print(f"{'mode':8} {'CPU us/req (best)':>18} {'median':>8} {'req/s (best)':>13} {'p50 ms':>7} {'p99 ms':>7}")
        for mode in MODES:
            runs = sorted(results[mode])
            best = runs[0]
            median = runs[len(runs) // 2][0]
            rps = max(r[1] for r in runs)
            print(f"{mode:8} {best[0]:18.0f} {median:8.0f} {rps:13.0f} {best[2] / 1000:7.1f} {best[3] / 1000:7.1f}")
    finally:
        server_process.terminate()
        server_process.wait(30)
        time.sleep(0.5)
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _user(base: str) -> str:
    for _ in range(300):
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    name = f"bench{secrets.token_hex(4)}"
    password = "correct-horse-1"
    httpx.post(f"{base}/auth/register", json={"username": name, "email": f"{name}@example.com", "password": password}).raise_for_status()
    login = httpx.post(f"{base}/auth/login", json={"username": name, "password": password})
    login.raise_for_status()
    return str(login.json()["access_token"])


if __name__ == "__main__":
    main(sys.argv[1])

"""What Redis adds to a request: p50/p99 per request with no Redis, Redis up, down and hung.

Starts `faros serve` (one uvicorn worker, rate limits on) on a scratch database, and a
throw-away `redis-server`, then times sequential authenticated requests with httpx over one
keep-alive connection, for each case:

    memory   FAROS_REDIS_URL unset: stats cache and rate limits in process memory
    up       Redis answering
    down     Redis killed (connections refused)
    hung     Redis frozen with SIGSTOP (connections accepted, nothing answered)

Two request kinds, each timed on its own:

    stats    GET /tasks/stats, the same user again and again: a cache hit in memory and with
             Redis up, a miss that falls through to PostgreSQL while Redis is down or hung
    create   POST /tasks: a rate-limit hit (3 round trips to Redis) and a cache invalidation

Run (PostgreSQL must accept the URL's role creating a database; it is dropped afterwards):

    .venv/bin/python bench/redis_latency.py
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres BENCH_REQUESTS=500 \\
        .venv/bin/python bench/redis_latency.py --json /tmp/redis_latency.json

Environment: BENCH_DATABASE_URL [postgresql://postgres@127.0.0.1:5432/postgres],
BENCH_REQUESTS [500] per kind and case, BENCH_WARMUP [50]. Results are printed as a table.
Timings are wall-clock on whatever else the machine is doing: compare cases of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
CREATE_LIMIT_PER_USER = 100  # POST /tasks: 100 an hour per user (API.md §1.10)
PASSWORD = "bench-password-1"  # noqa: S105 - throw-away users of a scratch database


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# --------------------------------------------------------------------------- processes


class RedisProcess:
    """A throw-away redis-server on a fixed port: killed, restarted, frozen, resumed."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server") or shutil.which("valkey-server")
        if binary is None:
            raise SystemExit("redis-server is not on PATH")
        self.binary = binary
        self.port = free_port()
        self.folder = tempfile.mkdtemp(prefix="faros-bench-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - a server binary found on PATH
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", self.folder, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(lambda: self._answers(), 10, "redis-server to start")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        self._running().kill()
        self._running().wait(timeout=10)
        self.process = None

    def _running(self) -> subprocess.Popen[bytes]:
        if self.process is None:
            raise RuntimeError("redis-server is not running")
        return self.process

    def freeze(self) -> None:
        os.kill(self._running().pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self._running().pid, signal.SIGCONT)

    def close(self) -> None:
        if self.process is not None:
            self.resume()
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Server:
    url: str
    log: Path
    _seen: int = 0

    def new_redis_log_lines(self) -> list[str]:
        """The server's Redis warnings (breaker opened / closed) since the last call."""
        lines = [
            line
            for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines()
            if "Redis (" in line
        ]
        fresh, self._seen = lines[self._seen :], len(lines)
        return fresh


@contextmanager
def faros_server(database_url: str, redis_url: str | None) -> Iterator[Server]:
    """`faros serve` as an operator starts it."""
    folder = Path(tempfile.mkdtemp(prefix="faros-bench-server-"))
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("FAROS_")}
    env.update(
        FAROS_HOST="127.0.0.1",
        FAROS_PORT=str(port),
        FAROS_DATABASE_URL=database_url,
        FAROS_DATA_DIR=str(folder),
        FAROS_SECRET_KEY="bench-secret-" + "b" * 40,
        FAROS_RATE_LIMITS="on",
        FAROS_OUTBOX_WORKER="off",
        FAROS_LOG_LEVEL="WARNING",
        # Every user signs up and in from an address of its own (X-Forwarded-For), so the
        # per-address limits on register and login do not cap the number of bench users.
        FAROS_TRUSTED_PROXIES="127.0.0.1",
    )
    if redis_url:
        env["FAROS_REDIS_URL"] = redis_url
    log = folder / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "faros.entrypoints.cli", "serve"],
            cwd=folder,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _healthy(url, process), 90, f"faros serve ({log})")
        yield Server(url, log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def _healthy(url: str, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise SystemExit(f"faros serve exited with {process.returncode}")
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


# --------------------------------------------------------------------------- the database


async def _admin(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    name = f"faros_redis_latency_{secrets.token_hex(4)}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    base, _, _ = server_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --------------------------------------------------------------------------- the workload


_addresses = iter(range(1, 60_000))


def _address() -> str:
    number = next(_addresses)
    return f"198.18.{number // 250}.{number % 250 + 1}"


def new_user(client: httpx.Client) -> dict[str, str]:
    """Register and sign in a user from an address of its own; returns its auth header."""
    name = f"bench_{secrets.token_hex(6)}"
    forwarded = {"X-Forwarded-For": _address()}
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    created = client.post("/auth/register", json=body, headers=forwarded)
    created.raise_for_status()
    login = client.post(
        "/auth/login", json={"username": name, "password": PASSWORD}, headers=forwarded
    )
    login.raise_for_status()
    client.cookies.clear()
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


@dataclass
class Users:
    """Users for one case: one whose stats are read, enough writers for the create budget."""

    reader: dict[str, str]
    writers: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def make(cls, client: httpx.Client, creates: int) -> Users:
        reader = new_user(client)
        for index in range(20):  # something to count
            tags = ["bench", f"t{index % 3}"]
            client.post("/tasks", json={"title": f"seed {index}", "tags": tags}, headers=reader)
        needed = -(-creates // (CREATE_LIMIT_PER_USER - 10))  # keep a margin under the limit
        return cls(reader, [new_user(client) for _ in range(needed)])


def timed(client: httpx.Client, method: str, path: str, **kwargs: Any) -> float:
    started = time.perf_counter()
    response = client.request(method, path, **kwargs)
    elapsed = time.perf_counter() - started
    if response.status_code >= 400:
        raise SystemExit(f"{method} {path} answered {response.status_code}: {response.text}")
    return elapsed


@dataclass
class Target:
    """One server, a client on it, and its users for every phase."""

    name: str
    client: httpx.Client
    users: dict[str, Users]


def run_phase(targets: list[Target], phase: str, requests: int, warmup: int) -> dict[str, Any]:
    """Time each request kind on every target, interleaved request by request.

    Interleaving puts both servers under the same machine load at the same moment, so their
    difference is Redis's doing rather than a busy neighbour's; the order alternates so
    neither server always goes first.
    """
    samples: dict[str, dict[str, list[float]]] = {
        target.name: {"stats": [], "create": []} for target in targets
    }
    per_writer = CREATE_LIMIT_PER_USER - 10

    def each(kind: str, index: int) -> None:
        ordered = targets if index % 2 == 0 else targets[::-1]
        for target in ordered:
            users = target.users[phase]
            if kind == "stats":
                took = timed(target.client, "GET", "/tasks/stats", headers=users.reader)
            else:
                writer = users.writers[index // per_writer]
                took = timed(target.client, "POST", "/tasks", json={"title": "x"}, headers=writer)
            if index >= 0:
                samples[target.name][kind].append(took)

    for index in range(-warmup, 0):
        each("stats", index)
    for index in range(requests):
        each("stats", index)
    for index in range(requests):
        each("create", index)
    result: dict[str, Any] = {
        name: {kind: summarize(values) for kind, values in kinds.items()}
        for name, kinds in samples.items()
    }
    # Request i on each server ran back to back: the median of their differences is the
    # sturdiest estimate of what Redis adds when the machine's load keeps changing.
    result["paired_delta_p50_ms"] = {
        kind: statistics.median(
            r - m for r, m in zip(samples["redis"][kind], samples["memory"][kind], strict=True)
        )
        * 1000
        for kind in ("stats", "create")
    }
    return result


def summarize(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def redis_state(client: httpx.Client) -> str:
    """The `redis` field of GET /health."""
    state: str = client.get("/health").json()["redis"]
    return state


# --------------------------------------------------------------------------- main


PHASES = ("up", "down", "hung")


def measure(server_url: str, requests: int, warmup: int) -> dict[str, dict[str, Any]]:
    """Per phase: {"memory": {...}, "redis": {...}, "health": ...}."""
    results: dict[str, dict[str, Any]] = {}
    redis = RedisProcess()
    redis.start()
    try:
        with (
            scratch_database(server_url) as database_url,
            faros_server(database_url, None) as memory_server,
            faros_server(database_url, redis.url) as redis_server,
            httpx.Client(base_url=memory_server.url) as memory_client,
            httpx.Client(base_url=redis_server.url) as redis_client,
        ):
            # Users for every phase up front, while Redis is there to count sign-ups.
            targets = [
                Target(name, client, {phase: Users.make(client, requests) for phase in PHASES})
                for name, client in (("memory", memory_client), ("redis", redis_client))
            ]
            print("redis up ...", flush=True)
            results["up"] = run_phase(targets, "up", requests, warmup)
            results["up"]["health"] = redis_state(redis_client)
            results["up"]["log"] = redis_server.new_redis_log_lines()

            redis.kill()
            print("redis down ...", flush=True)
            results["down"] = run_phase(targets, "down", requests, warmup)
            results["down"]["health"] = redis_state(redis_client)
            results["down"]["log"] = redis_server.new_redis_log_lines()

            redis.start()  # back on the same port; the app finds it after its cool-down
            wait_for(lambda: redis_state(redis_client) == "connected", 30, "Redis again")
            redis.freeze()
            print("redis hung ...", flush=True)
            results["hung"] = run_phase(targets, "hung", requests, warmup)
            results["hung"]["health"] = redis_state(redis_client)
            results["hung"]["log"] = redis_server.new_redis_log_lines()
            redis.resume()
    finally:
        redis.close()
    return results


def print_table(results: dict[str, dict[str, Any]]) -> None:
    print()
    print(f"{'redis':<6} {'request':<18} {'memory p50/p99 ms':>18} {'redis p50/p99 ms':>18}"
          f" {'Δp50 ms':>8} {'Δp99 ms':>8} {'paired Δ':>9} {'redis max':>10}  /health")  # fmt: skip
    names = {"stats": "GET /tasks/stats", "create": "POST /tasks"}
    for phase, result in results.items():
        for kind, label in names.items():
            base, row = result["memory"][kind], result["redis"][kind]
            print(f"{phase:<6} {label:<18} "
                  f"{base['p50_ms']:>8.2f} /{base['p99_ms']:>8.2f} "
                  f"{row['p50_ms']:>8.2f} /{row['p99_ms']:>8.2f} "
                  f"{row['p50_ms'] - base['p50_ms']:>+8.2f} "
                  f"{row['p99_ms'] - base['p99_ms']:>+8.2f} "
                  f"{result['paired_delta_p50_ms'][kind]:>+9.2f} "
                  f"{row['max_ms']:>10.1f}  {result['health']}")  # fmt: skip
    print("\nmemory: a server without FAROS_REDIS_URL, timed in the same moments as the one with")
    print("Redis; Δ = redis - memory; paired Δ = median of (redis - memory) request by request.")
    print("n =", results["up"]["redis"]["stats"]["n"], "per cell. The server's Redis log lines:")
    for phase, result in results.items():
        for line in result["log"]:
            print(f"  [{phase}] {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    server_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)
    requests = env_int("BENCH_REQUESTS", 500)
    warmup = env_int("BENCH_WARMUP", 50)
    results = measure(server_url, requests, warmup)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()

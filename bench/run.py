"""`make bench`: start FAROS as `make run` does with production settings, seed it through the
HTTP API, drive it with wrk, measure this machine's ceiling, and report (table, .md, .json, .png).

Every knob is an environment variable (defaults in brackets):

    BENCH_DURATION [10]   seconds per scenario      BENCH_WARMUP [2]   seconds of warm-up first
    BENCH_CONNECTIONS [32] wrk connections          BENCH_THREADS [2]  wrk threads
    BENCH_USERS [50] x BENCH_TASKS [200]            readers and their tasks
    BENCH_WRITERS [4]     users for PATCH/POST      BENCH_BIG_USERS [2] users with 10x tasks
    BENCH_BIG_FACTOR [10] data multiplier           BENCH_FLOOD_CONNECTIONS [8] login flood
    BENCH_FLOOD_ROUNDS [5] alternating rounds of reads alone / reads during the flood
    BENCH_ONLY            comma-separated scenario names to run (default: all)
    BENCH_PROFILE         comma-separated scenario names to profile with py-spy ("all")
    BENCH_STRICT [0]      1: a missed target also fails the run
    FAROS_BENCH_DATABASE_URL  a PostgreSQL server to use (a fresh database is created on it
                          and dropped afterwards); unset: a fresh embedded PostgreSQL
    FAROS_WORKERS [1], FAROS_REDIS_URL, FAROS_LOG_LEVEL  passed on to the server

Exit status: 0 when every answer was 2xx (and, with BENCH_STRICT=1, every target met);
1 otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import report  # noqa: E402
import seed  # noqa: E402

SCRIPT = BENCH_DIR / "wrk" / "scenario.lua"
WRK = shutil.which("wrk") or "wrk"
RESULTS = BENCH_DIR / "results"
# FAROS keeps up to 2 x 10 connections (adapters/postgres/engine.py); the ceiling keeps as many.
POOL_SIZE = 20


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


@dataclass(frozen=True)
class Config:
    duration: int = env_int("BENCH_DURATION", 10)
    warmup: int = env_int("BENCH_WARMUP", 2)
    connections: int = env_int("BENCH_CONNECTIONS", 32)
    threads: int = env_int("BENCH_THREADS", 2)
    users: int = env_int("BENCH_USERS", 50)
    tasks: int = env_int("BENCH_TASKS", 200)
    writers: int = env_int("BENCH_WRITERS", 4)
    big_users: int = env_int("BENCH_BIG_USERS", 2)
    big_factor: int = env_int("BENCH_BIG_FACTOR", 10)
    flood_connections: int = env_int("BENCH_FLOOD_CONNECTIONS", 8)
    flood_rounds: int = env_int("BENCH_FLOOD_ROUNDS", 5)
    strict: bool = os.environ.get("BENCH_STRICT", "0") == "1"
    only: frozenset[str] = frozenset(
        s.strip() for s in os.environ.get("BENCH_ONLY", "").split(",") if s.strip()
    )
    profile: frozenset[str] = frozenset(
        s.strip() for s in os.environ.get("BENCH_PROFILE", "").split(",") if s.strip()
    )

    def wants(self, name: str) -> bool:
        return not self.only or name in self.only

    def profiles(self, name: str) -> bool:
        return "all" in self.profile or name in self.profile


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} before answering")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {url} within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --------------------------------------------------------------------------- the database


@contextlib.contextmanager
def fresh_database(workdir: Path) -> Iterator[str]:
    """A URL of an empty database: a new embedded cluster, or a new database on the server."""
    external = os.environ.get("FAROS_BENCH_DATABASE_URL", "").strip()
    if not external:
        from faros.entrypoints.embedded_postgres import EmbeddedPostgres

        # Durable like `faros serve` (fsync on): the writes pay what they pay in production.
        with EmbeddedPostgres(workdir / "postgres") as url:
            yield url
        return
    from sqlalchemy.engine import make_url

    name = f"faros_bench_{dt.datetime.now():%Y%m%d_%H%M%S}_{secrets.token_hex(2)}"
    admin = make_url(external)
    asyncio.run(_admin(external, f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(external, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _settle(url: str, wait_seconds: float) -> int:
    """Wait for the outbox worker to drain what seeding queued, then VACUUM ANALYZE and a
    CHECKPOINT.

    All are what a production database in steady state has behind it (autovacuum and the
    checkpointer would otherwise kick in during a measurement); none touches the data.
    """
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + wait_seconds
        pending = -1
        while time.monotonic() < deadline:
            pending = await connection.fetchval(
                "SELECT count(*) FROM faros.outbox WHERE status = 'pending'"
            )
            if pending == 0:
                break
            await asyncio.sleep(0.5)
        await connection.execute("VACUUM ANALYZE")
        # Seeding wrote ~20k rows: without this the server's checkpoint of them would land in
        # the middle of the first measurements (the ceiling's among them).
        await connection.execute("CHECKPOINT")
        return int(pending)
    finally:
        await connection.close()


# --------------------------------------------------------------------------- servers


def start_faros(url: str, workdir: Path, port: int, logfile: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAROS_")}
    for passed in ("FAROS_WORKERS", "FAROS_REDIS_URL", "FAROS_LOG_LEVEL", "FAROS_LOG_FORMAT"):
        if os.environ.get(passed):
            env[passed] = os.environ[passed]
    env.update(
        FAROS_ENVIRONMENT="production",
        FAROS_SECRET_KEY=secrets.token_urlsafe(48),
        FAROS_RATE_LIMITS="off",
        FAROS_OUTBOX_WORKER="on",
        FAROS_DATA_DIR=str(workdir / "data"),
        FAROS_DATABASE_URL=url,
        FAROS_HOST="127.0.0.1",
        FAROS_PORT=str(port),
    )
    env.setdefault("FAROS_WORKERS", "1")
    faros = Path(sys.executable).parent / "faros"
    # The working directory is the scratch folder, so a developer's .env does not leak in.
    with logfile.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - our own console script
            [str(faros), "serve"], cwd=workdir, env=env, stdout=out, stderr=out
        )


def start_ceiling(url: str, port: int, workers: str, logfile: Path) -> subprocess.Popen[bytes]:
    with logfile.open("ab") as out:
        return subprocess.Popen(  # noqa: S603
            [
                sys.executable, str(BENCH_DIR / "ceiling_app.py"),
                "--port", str(port), "--database-url", url,
                "--workers", workers, "--pool", str(POOL_SIZE),
            ],
            stdout=out,
            stderr=out,
        )  # fmt: skip


# --------------------------------------------------------------------------- wrk


def wrk_command(
    base: str, scenario: str, data: Path, connections: int, duration: int, threads: int
) -> list[str]:
    """wrk running `scenario` of `bench/wrk/scenario.lua`; it prints a `BENCH_JSON` line."""
    threads = max(1, min(threads, connections))
    return [
        WRK, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
        "-s", str(SCRIPT), base, "--", str(data), scenario,
    ]  # fmt: skip


def wrk(
    base: str, scenario: str, data: Path, connections: int, duration: int, threads: int
) -> dict[str, Any]:
    command = wrk_command(base, scenario, data, connections, duration, threads)
    done = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            return result
    raise RuntimeError(f"wrk {scenario}: no result\n{done.stdout}\n{done.stderr}")


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of `pid` and all its descendants (uvicorn's workers, the
    password-hashing processes)."""
    stats: dict[str, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stats[entry.name] = (entry / "stat").read_text().rpartition(")")[2].split()
    family, grew = {str(pid)}, True
    while grew:
        children = {p for p, fields in stats.items() if fields[1] in family} - family
        family |= children
        grew = bool(children)
    return sum((int(stats[p][11]) + int(stats[p][12])) / _TICKS for p in family if p in stats)


class Profiler:
    """py-spy on the server while a scenario runs: raw collapsed stacks for bench/profile.py."""

    def __init__(self, pid: int, out: Path, duration: int) -> None:
        spy = Path(sys.executable).parent / "py-spy"
        self.out = out
        self.process = subprocess.Popen(  # noqa: S603
            [
                str(spy), "record", "--pid", str(pid), "--subprocesses", "--nonblocking",
                "--rate", "250", "--duration", str(duration), "--format", "raw",
                "--output", str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def finish(self) -> None:
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass
class Runner:
    config: Config
    data: Path
    results: list[dict[str, Any]]
    stamp: str
    server_pid: int = 0
    profile: bool = True

    def measure(self, base: str, name: str, scenario: str, **options: Any) -> None:
        """`measure_once`, kept in the results, if BENCH_ONLY lets `name` run."""
        if self.config.wants(name):
            self.results.append(self.measure_once(base, name, scenario, **options))

    def measure_once(
        self,
        base: str,
        name: str,
        scenario: str,
        *,
        connections: int | None = None,
        group: str = "faros",
        profile: bool = True,
    ) -> dict[str, Any]:
        """Warm up, then measure one scenario (and profile it when asked); logs the result."""
        c = self.config
        connections = connections or c.connections
        if c.warmup > 0:
            wrk(base, scenario, self.data, connections, c.warmup, c.threads)
        profiler = None
        if profile and self.profile and self.server_pid and c.profiles(name):
            out = RESULTS / "profiles" / f"{self.stamp}-{name}.txt"
            out.parent.mkdir(parents=True, exist_ok=True)
            profiler = Profiler(self.server_pid, out, c.duration)
        load_before = os.getloadavg()[0]
        cpu_before = cpu_seconds(self.server_pid) if self.server_pid else 0.0
        result = wrk(base, scenario, self.data, connections, c.duration, c.threads)
        if self.server_pid and result["requests"]:
            # The server's own CPU per answer: robust where req/s is not, on a shared machine.
            spent = cpu_seconds(self.server_pid) - cpu_before
            result["server_cpu_us"] = round(spent / result["requests"] * 1e6)
        if profiler:
            profiler.finish()
        result.update(
            name=name, scenario=scenario, connections=connections, group=group,
            load1=round(max(load_before, os.getloadavg()[0]), 2),
        )  # fmt: skip
        log(report.one_line(result))
        return result

    def flood(self, base: str) -> None:
        """By-id reads alone, then the same reads while a login flood runs beside them, in
        alternating rounds: a single pair's p99 moves by +-20% from run to run on a shared
        machine, more than the 10% the target allows; the medians of the rounds do not."""
        if not self.config.wants("flood"):
            return
        alone: list[dict[str, Any]] = []
        flooded: list[dict[str, Any]] = []
        logins: list[dict[str, Any]] = []
        for round_ in range(self.config.flood_rounds):
            alone.append(
                self.measure_once(base, "flood_reads_alone", "by_id", group="flood", profile=False)
            )
            with self._login_flood(base) as flood_result:
                flooded.append(
                    self.measure_once(
                        base, "flood_reads_with_logins", "by_id", group="flood",
                        profile=round_ == 0,
                    )
                )  # fmt: skip
            logins.append(flood_result)
        for rounds in (alone, flooded, logins):
            combined = report.combine_rounds(rounds)
            self.results.append(combined)
            log(f"median of {len(rounds)}: {report.one_line(combined)}")

    @contextlib.contextmanager
    def _login_flood(self, base: str) -> Iterator[dict[str, Any]]:
        """wrk posting logins for as long as the block's measurement (with its warm-up) lasts;
        its result fills the yielded dict when the block ends."""
        c = self.config
        login = subprocess.Popen(  # noqa: S603
            wrk_command(
                base, "login", self.data, c.flood_connections, c.duration + c.warmup + 2, 1
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        result: dict[str, Any] = {}
        try:
            time.sleep(1)
            yield result
        finally:
            out, err = login.communicate(timeout=c.duration + c.warmup + 60)
        for line in out.splitlines():
            if line.startswith("BENCH_JSON "):
                result.update(json.loads(line.removeprefix("BENCH_JSON ")))
                result.update(
                    name="flood_logins", scenario="login", connections=c.flood_connections,
                    group="flood", load1=round(os.getloadavg()[0], 2),
                )  # fmt: skip
                return
        raise RuntimeError(f"login flood: no result\n{out}\n{err}")


@dataclass
class Session:
    """One benchmark run: the servers it started, what it measured, where it keeps things."""

    config: Config
    stamp: str
    workdir: Path
    meta: dict[str, Any]
    results: list[dict[str, Any]]
    faros: subprocess.Popen[bytes] | None = None
    ceiling: subprocess.Popen[bytes] | None = None

    @property
    def server_log(self) -> Path:
        return self.workdir / "server.log"

    def run(self, url: str) -> None:
        try:
            self._run(url)
        finally:
            # Before the database goes away, so the server's worker does not log errors.
            stop(self.ceiling)
            stop(self.faros)

    def _run(self, url: str) -> None:
        config, meta = self.config, self.meta
        data = self.workdir / "data.lua"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log(f"starting FAROS on {base} (workers={meta['workers']}, {meta['database']} db)")
        self.faros = start_faros(url, self.workdir, port, self.server_log)
        wait_http(f"{base}/health", self.faros, 180, "faros serve")

        big_tasks = config.tasks * config.big_factor
        groups = [
            seed.make_group("readers", "reader", config.users, config.tasks),
            seed.make_group("writers", "writer", config.writers, config.tasks),
            seed.make_group("big", "big", config.big_users, big_tasks),
        ]
        log(
            f"seeding {config.users}x{config.tasks} + {config.writers}x{config.tasks} + "
            f"{config.big_users}x{big_tasks} tasks through the API"
        )
        meta["seed_seconds"] = round(seed.run(base, groups, data), 1)
        pending = asyncio.run(_settle(url, 120))
        log(f"outbox drained ({pending} still pending), VACUUM ANALYZE done")

        # The ceiling: the same machine and database, none of FAROS in the way.
        ceiling_port = free_port()
        ceiling_base = f"http://127.0.0.1:{ceiling_port}"
        self.ceiling = start_ceiling(url, ceiling_port, meta["workers"], self.server_log)
        wait_http(f"{ceiling_base}/json", self.ceiling, 60, "ceiling app")
        ceiling_runner = Runner(
            config, data, self.results, self.stamp, server_pid=self.ceiling.pid, profile=False
        )
        ceiling_runner.measure(ceiling_base, "ceiling_json", "ceiling_json", group="ceiling")
        ceiling_runner.measure(ceiling_base, "ceiling_db", "ceiling_db", group="ceiling")
        stop(self.ceiling)

        runner = Runner(config, data, self.results, self.stamp, server_pid=self.faros.pid)
        for name in ("health", "first_page", "filtered", "by_id", "comments", "stats"):
            runner.measure(base, name, name, group="read")
        runner.measure(base, "patch", "patch", group="write")
        runner.measure(base, "post", "post", group="write")
        runner.measure(base, "mixed", "mixed", group="mixed")
        runner.measure(base, "mixed_256", "mixed", connections=256, group="mixed")
        runner.measure(base, "login", "login", group="login")
        # The writes above left dead rows and dirty pages: settled again, so the checkpoint and
        # autovacuum they call for do not land in the middle of the comparisons below.
        asyncio.run(_settle(url, 60))
        runner.measure(base, "big_first_page", "big_first_page", group="data10x")
        runner.measure(base, "big_by_id", "big_by_id", group="data10x")
        runner.flood(base)


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed: `sudo apt-get install wrk` (Debian/Ubuntu)", file=sys.stderr)
        return 2
    config = Config()
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    workdir = Path(tempfile.mkdtemp(prefix="faros-bench-"))
    os.chmod(workdir, 0o755)  # noqa: S103 - the embedded server may run as another user
    meta: dict[str, Any] = {
        "stamp": stamp,
        "host": socket.gethostname(),
        "cpus": os.cpu_count(),
        "load_at_start": [round(x, 2) for x in os.getloadavg()],
        "config": {
            k: sorted(v) if isinstance(v, frozenset) else v for k, v in vars(config).items()
        },
        "workers": os.environ.get("FAROS_WORKERS", "1"),
        "database": "external" if os.environ.get("FAROS_BENCH_DATABASE_URL") else "embedded",
    }
    session = Session(config, stamp, workdir, meta, [])
    try:
        with fresh_database(workdir) as url:
            session.run(url)
    except BaseException:
        with contextlib.suppress(OSError):
            tail = session.server_log.read_text(errors="replace").splitlines()[-30:]
            print("\n".join(["--- server log (last lines) ---", *tail]), file=sys.stderr)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    meta["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    outcome = report.write(session.results, meta, RESULTS / stamp)
    print(outcome.table)
    print(f"\nwritten: {RESULTS / stamp}.md, .json, .png")
    if outcome.missed:
        print("targets missed: " + "; ".join(outcome.missed))
    if outcome.failures:
        print("FAILED RUN: " + "; ".join(outcome.failures), file=sys.stderr)
        return 1
    if config.strict and outcome.missed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

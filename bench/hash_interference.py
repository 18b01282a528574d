"""What hashing beside the server costs its reads, apart from anything FAROS does.

    .venv/bin/python bench/hash_interference.py [VARIANTS] [ROUNDS] [SECONDS]

Starts FAROS on a fresh database as `make bench` does (`BENCH_TASKS` tasks per reader, 40 unless
set), then measures
by-id reads at 32 connections in alternating rounds, one per variant:

    alone          nothing else runs
    hash<R>        a separate process at the lowest priority (SCHED_IDLE, nice 19) runs
                   <R> OWASP argon2id hashes a second, like the server's hashing workers
    spin<R>        the same process spinning for 25 ms <R> times a second (no memory traffic)
    flood          8 connections of POST /auth/login, as in make bench's flood

and prints each variant's median req/s, p99 and server CPU per read. Defaults:
`alone,hash12,hash4,flood 8 8`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report
import run
import seed

PRIORITY_HOG = """
import os, sys, time
from argon2.low_level import Type, hash_secret_raw
kind, per_second = sys.argv[1], float(sys.argv[2])
os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
os.nice(19)
due = time.monotonic()
while True:
    if kind == "hash":
        hash_secret_raw(b"password", b"sixteen-byte-sal", 2, 19_456, 1, 32, Type.ID)
    else:
        end = time.monotonic() + 0.025
        while time.monotonic() < end:
            pass
    due = max(due + 1 / per_second, time.monotonic() - 1)
    time.sleep(max(0.0, due - time.monotonic()))
"""


def beside(variant: str, base: str, data: Path, seconds: int) -> subprocess.Popen[bytes] | None:
    """The process that runs beside the reads in `variant`, or None."""
    if variant == "alone":
        return None
    if variant == "flood":
        command = run.wrk_command(base, "login", data, 8, seconds + 4, 1)
        return subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
    for kind in ("hash", "spin"):
        if variant.startswith(kind):
            rate = variant.removeprefix(kind)
            return subprocess.Popen([sys.executable, "-c", PRIORITY_HOG, kind, rate])  # noqa: S603
    raise SystemExit(f"unknown variant {variant!r}")


def main() -> None:
    variants = (sys.argv[1] if len(sys.argv) > 1 else "alone,hash12,hash4,flood").split(",")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    workdir = Path(tempfile.mkdtemp(prefix="faros-interference-"))
    os.chmod(workdir, 0o755)  # noqa: S103 - the embedded server may run as another user
    measured: dict[str, list[tuple[float, float, float]]] = {v: [] for v in variants}
    with run.fresh_database(workdir) as url:
        port = run.free_port()
        base = f"http://127.0.0.1:{port}"
        faros = run.start_faros(url, workdir, port, workdir / "server.log")
        try:
            run.wait_http(f"{base}/health", faros, 180, "faros serve")
            data = workdir / "data.lua"
            tasks = run.env_int("BENCH_TASKS", 40)
            groups = [
                seed.make_group("readers", "reader", 50, tasks),
                seed.make_group("writers", "writer", 4, tasks),
                seed.make_group("big", "big", 2, 2 * tasks),
            ]
            seed.run(base, groups, data)
            asyncio.run(run._settle(url, 60))
            config = dataclasses.replace(run.Config(), duration=seconds, warmup=1)
            runner = run.Runner(config, data, [], "", server_pid=faros.pid, profile=False)
            for _ in range(rounds):
                for variant in variants:
                    other = beside(variant, base, data, seconds)
                    time.sleep(1)
                    result = runner.measure_once(base, variant, "by_id")
                    if other is not None:
                        other.kill()
                        other.wait()
                    measured[variant].append(
                        (report.rps(result), result["p99_us"] / 1000, result["server_cpu_us"])
                    )
        finally:
            run.stop(faros)
    alone = statistics.median(p99 for _, p99, _ in measured[variants[0]])
    for variant, rows in measured.items():
        rps, p99, cpu = (statistics.median(column) for column in zip(*rows, strict=True))
        print(
            f"{variant:8s} {rps:6.0f} req/s  p99 {p99:5.1f} ms ({p99 / alone:4.2f}x "
            f"{variants[0]})  server CPU {cpu:4.0f} us/read  "
            f"rounds' p99 {[round(p, 1) for _, p, _ in rows]}"
        )


if __name__ == "__main__":
    main()

"""The benchmark's report: the table (stdout and Markdown), the raw JSON and a PNG chart.

Targets come from issue #7: ratios are to the asyncpg `SELECT 1` ceiling measured in the same
run; p99 limits apply at the default 32 connections.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LABELS = {
    "ceiling_json": "ceiling: Litestar small JSON",
    "ceiling_db": "ceiling: Litestar + asyncpg SELECT 1",
    "health": "GET /health",
    "first_page": "GET /tasks?limit=20",
    "filtered": "GET /tasks filtered + search",
    "by_id": "GET /tasks/{id}",
    "comments": "GET /tasks/{id}/comments",
    "stats": "GET /tasks/stats (cached)",
    "patch": "PATCH /tasks/{id}",
    "post": "POST /tasks",
    "mixed": "mixed 80/20 read/write",
    "mixed_256": "mixed 80/20 read/write",
    "login": "POST /auth/login",
    "big_first_page": "GET /tasks?limit=20, 10x data",
    "big_by_id": "GET /tasks/{id}, 10x data",
    "flood_reads_alone": "GET /tasks/{id}, flood baseline",
    "flood_reads_with_logins": "GET /tasks/{id}, during login flood",
    "flood_logins": "POST /auth/login, the flood",
}
# The original FAROS on the reference machine (1 worker, 2 cores), from issue #7.
ORIGINAL = {
    "first_page": 45, "filtered": 87, "by_id": 206, "comments": 231, "stats": 372,
    "patch": 149, "post": 150, "health": 850,
}  # fmt: skip
RATIO_TARGETS = {
    "by_id": 0.40, "comments": 0.40, "stats": 0.40,
    "first_page": 0.25, "filtered": 0.25,
    "patch": 0.15, "post": 0.15,
}  # fmt: skip
P99_LIMIT_MS = 50.0
READS = ("health", "first_page", "filtered", "by_id", "comments", "stats")
GROWTH_LIMIT = 1.5  # 10x data: p99 at most 1.5x the 1x value
FLOOD_LIMIT = 1.10  # a login flood raises concurrent reads' p99 by at most 10%
GROUP_COLOURS = {
    "ceiling": "#7f7f7f", "read": "#1f77b4", "write": "#d62728", "mixed": "#9467bd",
    "login": "#8c564b", "data10x": "#17becf", "flood": "#bcbd22", "faros": "#1f77b4",
}  # fmt: skip


def rps(r: dict[str, Any]) -> float:
    return float(r["requests"]) / (float(r["duration_us"]) / 1e6) if r["duration_us"] else 0.0


def ms(us: float) -> float:
    return float(us) / 1000.0


def non_2xx(r: dict[str, Any]) -> int:
    return sum(n for status, n in r["statuses"].items() if not 200 <= int(status) < 300)


def socket_errors(r: dict[str, Any]) -> int:
    return sum(int(n) for n in r["socket_errors"].values())


def label(r: dict[str, Any]) -> str:
    text = LABELS.get(r["name"], r["name"])
    return f"{text} (median of {len(r['rounds'])})" if "rounds" in r else text


def combine_rounds(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One result for repeated measurements of one scenario: counts summed, latencies the
    median of the rounds' (each round's own figures kept under "rounds")."""
    combined = dict(rounds[0])
    combined["requests"] = sum(r["requests"] for r in rounds)
    combined["duration_us"] = sum(r["duration_us"] for r in rounds)
    for key in ("p50_us", "p90_us", "p99_us", "mean_us"):
        combined[key] = statistics.median(r[key] for r in rounds)
    combined["max_us"] = max(r["max_us"] for r in rounds)
    statuses: dict[str, int] = {}
    errors: dict[str, int] = {}
    for r in rounds:
        for status, n in r["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
        for kind, n in r["socket_errors"].items():
            errors[kind] = errors.get(kind, 0) + int(n)
    combined["statuses"], combined["socket_errors"] = statuses, errors
    if all("server_cpu_us" in r for r in rounds) and combined["requests"]:
        spent = sum(r["server_cpu_us"] * r["requests"] for r in rounds)
        combined["server_cpu_us"] = round(spent / combined["requests"])
    combined["load1"] = max(r["load1"] for r in rounds)
    combined["rounds"] = [
        {"rps": round(rps(r)), "p50_us": r["p50_us"], "p99_us": r["p99_us"]} for r in rounds
    ]
    return combined


def one_line(r: dict[str, Any]) -> str:
    return (
        f"{r['name']:<24} c={r['connections']:<4} {rps(r):8.0f} req/s"
        f"  p50 {ms(r['p50_us']):7.1f} ms"
        f"  p99 {ms(r['p99_us']):7.1f} ms  non-2xx {non_2xx(r)}  errors {socket_errors(r)}"
        f"  cpu {r.get('server_cpu_us', '-')} us/req  load {r['load1']}"
    )


@dataclass
class Check:
    scenario: str
    text: str
    passed: bool


@dataclass
class Outcome:
    table: str
    failures: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)


def _checks(by_name: dict[str, dict[str, Any]]) -> list[Check]:
    checks: list[Check] = []
    ceiling = by_name.get("ceiling_db")
    for name, target in RATIO_TARGETS.items():
        if name in by_name and ceiling:
            ratio = rps(by_name[name]) / rps(ceiling)
            checks.append(Check(name, f">= {target:.0%} of SELECT 1", ratio >= target))
    for name in READS:
        if name in by_name:
            p99 = ms(by_name[name]["p99_us"])
            checks.append(Check(name, f"p99 < {P99_LIMIT_MS:.0f} ms", p99 < P99_LIMIT_MS))
    for big, small in (("big_first_page", "first_page"), ("big_by_id", "by_id")):
        if big in by_name and small in by_name:
            growth = by_name[big]["p99_us"] / max(by_name[small]["p99_us"], 1)
            checks.append(
                Check(big, f"p99 <= {GROWTH_LIMIT}x 1x ({growth:.2f}x)", growth <= GROWTH_LIMIT)
            )
    alone, flooded = by_name.get("flood_reads_alone"), by_name.get("flood_reads_with_logins")
    if alone and flooded:
        growth = flooded["p99_us"] / max(alone["p99_us"], 1)
        checks.append(
            Check(
                "flood_reads_with_logins",
                f"p99 <= {FLOOD_LIMIT:.2f}x alone ({growth:.2f}x)",
                growth <= FLOOD_LIMIT,
            )
        )
    return checks


def build(results: list[dict[str, Any]], meta: dict[str, Any]) -> Outcome:
    by_name = {r["name"]: r for r in results}
    ceiling = by_name.get("ceiling_db")
    checks = _checks(by_name)
    header = [
        "scenario", "conns", "req/s", "p50 ms", "p99 ms", "non-2xx", "vs SELECT 1",
        "CPU us/req", "original", "target", "met",
    ]  # fmt: skip
    rows: list[list[str]] = []
    for r in results:
        mine = [c for c in checks if c.scenario == r["name"]]
        ratio = f"{rps(r) / rps(ceiling):.0%}" if ceiling else "-"
        original = ORIGINAL.get(r["name"])
        rows.append(
            [
                label(r),
                str(r["connections"]),
                f"{rps(r):.0f}",
                f"{ms(r['p50_us']):.1f}",
                f"{ms(r['p99_us']):.1f}",
                str(non_2xx(r) + socket_errors(r)),
                ratio,
                str(r.get("server_cpu_us", "")),
                f"{original} ({rps(r) / original:.1f}x)" if original else "",
                "; ".join(c.text for c in mine),
                ("yes" if all(c.passed for c in mine) else "NO") if mine else "",
            ]
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    table = "\n".join(
        [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)]
    )
    failures = [
        f"{r['name']}: {non_2xx(r)} non-2xx {r['statuses']}, {socket_errors(r)} socket errors"
        for r in results
        if non_2xx(r) or socket_errors(r)
    ]
    missed = [f"{c.scenario}: {c.text}" for c in checks if not c.passed]
    return Outcome(table, failures, missed, checks)


def write(results: list[dict[str, Any]], meta: dict[str, Any], prefix: Path) -> Outcome:
    outcome = build(results, meta)
    config = meta["config"]
    lines = [
        f"# FAROS benchmark {meta['stamp']}",
        "",
        f"Machine `{meta['host']}`, {meta['cpus']} CPUs; FAROS workers: {meta['workers']}; "
        f"database: {meta['database']}; wrk {config['threads']} threads, "
        f"{config['duration']} s per scenario after {config['warmup']} s warm-up.",
        f"Load average (1/5/15 min) at start {meta['load_at_start']}, at end "
        f"{meta.get('load_at_end')}; seeding took {meta.get('seed_seconds')} s.",
        f"Data: {config['users']} users x {config['tasks']} tasks, {config['writers']} writers, "
        f"{config['big_users']} users x {config['tasks'] * config['big_factor']} tasks (10x).",
        "",
        outcome.table,
        "",
        f"Targets missed: {len(outcome.missed)}"
        + ("" if not outcome.missed else " — " + "; ".join(outcome.missed)),
        f"Failed (non-2xx or socket errors): {'; '.join(outcome.failures) or 'none'}",
        "",
        f"Chart: `{prefix.name}.png`",
    ]
    prefix.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    document = {
        "meta": meta,
        "results": [{**r, "rps": round(rps(r), 1)} for r in results],
        "checks": [vars(c) for c in outcome.checks],
        "failures": outcome.failures,
    }
    prefix.with_suffix(".json").write_text(json.dumps(document, indent=2) + "\n", "utf-8")
    chart(results, meta, prefix.with_suffix(".png"))
    return outcome


def chart(results: list[dict[str, Any]], meta: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no chart (pip install -r bench/requirements.txt)")
        return
    names = [f"{label(r)} @{r['connections']}" for r in results]
    colours = [GROUP_COLOURS.get(r["group"], "#1f77b4") for r in results]
    y = list(range(len(results)))[::-1]
    figure, (left, right) = plt.subplots(1, 2, figsize=(15, 0.42 * len(results) + 1.8), sharey=True)
    throughput = [rps(r) for r in results]
    left.barh(y, throughput, color=colours)
    left.set_xscale("log")
    left.set_xlabel("requests/s (log)")
    for yy, value in zip(y, throughput, strict=True):
        left.text(value, yy, f" {value:,.0f}", va="center", fontsize=8)
    left.set_yticks(y, names, fontsize=8)
    ceiling = next((rps(r) for r in results if r["name"] == "ceiling_db"), None)
    if ceiling:
        left.axvline(ceiling, color="#7f7f7f", linestyle="--", linewidth=1)
    p99 = [ms(r["p99_us"]) for r in results]
    right.barh(y, p99, color=colours)
    right.set_xscale("log")
    right.set_xlabel("p99 latency, ms (log)")
    right.axvline(P99_LIMIT_MS, color="#d62728", linestyle="--", linewidth=1)
    for yy, value in zip(y, p99, strict=True):
        right.text(value, yy, f" {value:.1f}", va="center", fontsize=8)
    figure.suptitle(
        f"FAROS benchmark {meta['stamp']} — {meta['cpus']} CPUs, {meta['workers']} worker(s), "
        f"load at start {meta['load_at_start'][0]}; dashed: SELECT 1 ceiling / 50 ms p99 target",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)

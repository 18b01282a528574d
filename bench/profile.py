"""Summarise a py-spy raw profile (collapsed stacks) of the FAROS server.

    python bench/profile.py bench/results/profiles/<stamp>-by_id.txt [--top 25]

`make bench` records one per scenario named in BENCH_PROFILE (py-spy `--format raw`: one line
per distinct stack, `frame;frame;...;frame count`). This prints where the samples fall:
self time by package (sqlalchemy, litestar, asyncpg, faros, ...), then the functions with the
most inclusive and self time, so "where does the time go" has an answer in numbers.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
_PACKAGES = (
    "sqlalchemy", "asyncpg", "litestar", "msgspec", "uvicorn", "httptools", "jwt", "argon2",
    "greenlet", "faros", "asyncio", "logging", "json", "uvloop",
)  # fmt: skip


def package_of(path: str) -> str:
    parts = Path(path).parts
    for name in _PACKAGES:
        if name in parts or path.endswith(f"{name}.py"):
            return name
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    return "python (stdlib)" if "python3" in path else path or "?"


def frame_key(frame: str) -> tuple[str, str]:
    """(`function (file)` without the line, package)."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame, "?"
    path = match["file"]
    short = "/".join(Path(path).parts[-2:]) if path else "?"
    return f"{match['func']} ({short})", package_of(path)


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def summarise(path: Path, top: int) -> str:
    stacks = load(path)
    total = sum(n for _, n in stacks)
    if not total:
        return f"{path}: no samples"
    by_package: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, n in stacks:
        keys = [frame_key(f) for f in frames]
        leaf, package = keys[-1]
        by_package[package] += n
        self_time[leaf] += n
        for name in {k for k, _ in keys}:
            inclusive[name] += n
    out = [f"{path.name}: {total} samples", "", "self time by package:"]
    out += [f"  {n / total:6.1%}  {name}" for name, n in by_package.most_common(12)]
    out += ["", f"inclusive (top {top}):"]
    out += [f"  {n / total:6.1%}  {name}" for name, n in inclusive.most_common(top)]
    out += ["", f"self (top {top}):"]
    out += [f"  {n / total:6.1%}  {name}" for name, n in self_time.most_common(top)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("profiles", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for path in args.profiles:
        print(summarise(path, args.top))
        print()


if __name__ == "__main__":
    main()

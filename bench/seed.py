"""Seeding a running FAROS through its HTTP API only, concurrently, with a realistic data set.

Three groups of users:

* readers (default 50 x 200 tasks): the read scenarios and the mixed load;
* writers (default 4 x 200 tasks): the PATCH and POST scenarios, so writes do not change
  the readers' data between read scenarios;
* big (default 5 x 2000 tasks): the 10x-data-per-user scenarios.

Every group gets the same mix: tags, priorities and due dates on tasks; 10% of tasks shared
with 1-2 other users of the group; 15% of tasks with 1-4 comments by the owner or a sharee.
The result (tokens, task ids, tasks with comments, passwords for logins) is written as a Lua
table for the wrk scripts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx

PASSWORD = "bench-password-1"  # noqa: S105 - throw-away users of a throw-away database
WORDS = (
    "report", "invoice", "meeting", "release", "backup", "review", "budget", "design",
    "deploy", "migrate", "interview", "roadmap", "newsletter", "audit", "workshop", "survey",
)  # fmt: skip
VERBS = ("Prepare", "Send", "Check", "Plan", "Finish", "Update", "Draft", "Discuss", "Fix")
OBJECTS = ("for the team", "with finance", "before Friday", "for Q3", "for the client", "")
TAGS = (
    "work", "home", "urgent", "later", "finance", "health", "errands", "ops", "dev",
    "design", "family", "reading", "travel", "admin", "sales", "support",
)  # fmt: skip
COMMENTS = (
    "Looks good to me.",
    "I will take care of this tomorrow.",
    "Can we move the due date? The numbers are not ready yet.",
    "Done on my side, please double-check the attachment.",
    "Blocked until the review is finished.",
)
PRIORITIES = ("low", "medium", "medium", "high")


@dataclass
class Member:
    username: str
    token: str = ""
    user_id: int = 0
    own: list[int] = field(default_factory=list)
    shared_in: list[int] = field(default_factory=list)  # tasks others shared with this user
    commented: list[int] = field(default_factory=list)  # visible tasks that have comments


@dataclass
class Group:
    name: str
    members: list[Member]
    tasks_per_user: int


class Seeder:
    def __init__(self, base_url: str, concurrency: int, rng: random.Random) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=60,
            # Idle connections are dropped before uvicorn's 5 s keep-alive timeout does it: a
            # request sent on a connection the server is closing fails with no answer.
            limits=httpx.Limits(
                max_connections=concurrency,
                max_keepalive_connections=concurrency,
                keepalive_expiry=2.0,
            ),
        )
        self._concurrency = concurrency
        self._rng = rng
        self.requests = 0

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _call(
        self, method: str, path: str, *, token: str | None = None, json: Any = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        response = await self._client.request(method, path, headers=headers, json=json)
        self.requests += 1
        if response.status_code >= 300:
            raise RuntimeError(
                f"seeding: {method} {path} answered {response.status_code}: {response.text[:300]}"
            )
        return response.json()

    async def _run_all(self, jobs: Iterable[Callable[[], Awaitable[Any]]]) -> None:
        """Run the jobs with at most `concurrency` in flight (a fixed pool of workers)."""
        queue = list(jobs)
        queue.reverse()

        async def worker() -> None:
            while queue:
                await queue.pop()()

        await asyncio.gather(*(worker() for _ in range(self._concurrency)))

    async def users(self, group: Group) -> None:
        async def register(member: Member) -> None:
            body = {
                "username": member.username,
                "email": f"{member.username}@bench.example.com",
                "password": PASSWORD,
            }
            created = await self._call("POST", "/auth/register", json=body)
            member.user_id = created["id"]
            login = {"username": member.username, "password": PASSWORD}
            member.token = (await self._call("POST", "/auth/login", json=login))["access_token"]

        await self._run_all(partial(register, m) for m in group.members)

    def _task_body(self) -> dict[str, Any]:
        rng = self._rng
        title = f"{rng.choice(VERBS)} {rng.choice(WORDS)} {rng.choice(OBJECTS)}".strip()
        body: dict[str, Any] = {
            "title": title,
            "priority": rng.choice(PRIORITIES),
            "tags": rng.sample(TAGS, rng.randint(0, 4)),
            "completed": rng.random() < 0.4,
        }
        if rng.random() < 0.7:
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 30)))
            body["description"] = f"Notes: {words}."
        if rng.random() < 0.7:
            due = dt.date.today() + dt.timedelta(days=rng.randint(-30, 60))
            body["due_date"] = due.isoformat()
        return body

    async def tasks(self, group: Group) -> None:
        async def create(member: Member, body: dict[str, Any]) -> None:
            task = await self._call("POST", "/tasks", token=member.token, json=body)
            member.own.append(task["id"])

        bodies = [
            (m, self._task_body()) for _ in range(group.tasks_per_user) for m in group.members
        ]
        jobs = [partial(create, m, b) for m, b in bodies]
        await self._run_all(jobs)
        for member in group.members:
            member.own.sort()

    async def shares_and_comments(self, group: Group) -> None:
        rng = self._rng
        jobs: list[Callable[[], Awaitable[Any]]] = []
        readers_of: dict[int, list[Member]] = {}
        for owner in group.members:
            others = [m for m in group.members if m is not owner]
            if not others:
                continue
            for task_id in rng.sample(owner.own, round(len(owner.own) * 0.10)):
                sharees = rng.sample(others, min(len(others), rng.randint(1, 2)))
                readers_of[task_id] = sharees
                for sharee in sharees:
                    sharee.shared_in.append(task_id)
                    body = {
                        "shared_with_username": sharee.username,
                        "permission": rng.choice(("view", "edit")),
                    }
                    path = f"/tasks/{task_id}/share"
                    jobs.append(partial(self._call, "POST", path, token=owner.token, json=body))
        await self._run_all(jobs)

        jobs = []
        for owner in group.members:
            for task_id in rng.sample(owner.own, round(len(owner.own) * 0.15)):
                audience = [owner, *readers_of.get(task_id, [])]
                for member in audience:
                    member.commented.append(task_id)
                for _ in range(rng.randint(1, 4)):
                    author = rng.choice(audience)
                    body = {"content": rng.choice(COMMENTS)}
                    path = f"/tasks/{task_id}/comments"
                    jobs.append(partial(self._call, "POST", path, token=author.token, json=body))
        rng.shuffle(jobs)
        await self._run_all(jobs)


def make_group(name: str, prefix: str, users: int, tasks_per_user: int) -> Group:
    return Group(name, [Member(f"{prefix}{i:03d}") for i in range(users)], tasks_per_user)


async def seed(base_url: str, groups: list[Group], concurrency: int, seed_value: int) -> int:
    """Seed every group; returns the number of HTTP requests made."""
    # Not for secrets: a fixed seed makes every run seed the same data.
    seeder = Seeder(base_url, concurrency, random.Random(seed_value))  # noqa: S311
    try:
        for group in groups:
            await seeder.users(group)
        for group in groups:
            await seeder.tasks(group)
        for group in groups:
            await seeder.shares_and_comments(group)
    finally:
        await seeder.aclose()
    return seeder.requests


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lua_ints(values: Iterable[int]) -> str:
    return "{" + ",".join(str(v) for v in values) + "}"


def write_lua(path: Path, groups: list[Group]) -> None:
    """The data the wrk scripts pick from: `return {readers = {...}, writers = ..., ...}`."""
    lines = ["-- generated by bench/seed.py", "return {"]
    for group in groups:
        lines.append(f"  {group.name} = {{")
        for m in group.members:
            visible = sorted({*m.own, *m.shared_in})
            commented = sorted(set(m.commented)) or m.own[:1]
            lines.append(
                f"    {{user={_lua_string(m.username)}, token={_lua_string(m.token)}, "
                f"own={_lua_ints(m.own)}, visible={_lua_ints(visible)}, "
                f"commented={_lua_ints(commented)}}},"
            )
        lines.append("  },")
    lines.append(f"  password = {_lua_string(PASSWORD)},")
    lines.append("  words = {" + ",".join(_lua_string(w) for w in WORDS) + "},")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(base_url: str, groups: list[Group], path: Path, concurrency: int = 48) -> float:
    started = time.perf_counter()
    requests = asyncio.run(seed(base_url, groups, concurrency, 20260101))
    write_lua(path, groups)
    elapsed = time.perf_counter() - started
    print(f"seeded {requests} requests in {elapsed:.1f} s ({requests / elapsed:.0f} req/s)")
    return elapsed

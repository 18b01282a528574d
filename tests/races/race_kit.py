"""Helpers of the race suite: actors, a small API client, concurrent firing.

Imported by the race tests and their conftest (pytest puts this folder on the import path).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

PASSWORD = "correct-horse-1"
VERIFY_TOKEN = re.compile(r"/verify\?token=([A-Za-z0-9_\-%.~]+)")
# Enough rounds for the interleavings to vary, few enough to keep the suite quick.
ROUNDS = 20


def unique(prefix: str = "r") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@asynccontextmanager
async def running(application: Litestar) -> AsyncIterator[Litestar]:
    """Run the app's lifespan in a task of its own (its cancel scope must stay in one task)."""
    started = asyncio.Event()
    stop = asyncio.Event()

    async def hold() -> None:
        async with application.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(hold())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()
    try:
        yield application
    finally:
        stop.set()
        await task


@dataclass(frozen=True)
class Actor:
    id: int
    username: str
    email: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    def __init__(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        self.client = client
        self.engine = engine

    async def actor(self, prefix: str = "r") -> Actor:
        username = unique(prefix)
        email = f"{username}@example.com"
        created = await self.client.post(
            "/auth/register", json={"username": username, "email": email, "password": PASSWORD}
        )
        assert created.status_code == 201, created.text
        login = await self.client.post(
            "/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        self.client.cookies.clear()
        return Actor(created.json()["id"], username, email, login.json()["access_token"])

    async def verify_email(self, who: Actor) -> None:
        """Verify `who`'s address through the API, so event e-mails to them are queued."""
        sent = await self.client.post("/notifications/send-verification", headers=who.auth)
        assert sent.status_code == 200, sent.text
        body = await self.scalar(
            "SELECT payload->>'text' FROM faros.outbox WHERE payload->>'to' = :to "
            "AND payload->>'text' LIKE '%/verify?token=%' ORDER BY id DESC LIMIT 1",
            to=who.email,
        )
        found = VERIFY_TOKEN.search(str(body))
        assert found is not None, body
        verified = await self.client.post(
            "/notifications/verify", json={"token": unquote(found.group(1))}
        )
        assert verified.status_code == 200, verified.text

    async def task(self, owner: Actor, **fields: Any) -> dict[str, Any]:
        body = {"title": "Task " + secrets.token_hex(4), **fields}
        response = await self.client.post("/tasks", json=body, headers=owner.auth)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def share(self, owner: Actor, task_id: int, target: Actor, permission: str) -> None:
        response = await self.client.post(
            f"/tasks/{task_id}/share",
            json={"shared_with_username": target.username, "permission": permission},
            headers=owner.auth,
        )
        assert response.status_code == 201, response.text

    async def comment(self, who: Actor, task_id: int, content: str = "hi") -> dict[str, Any]:
        response = await self.client.post(
            f"/tasks/{task_id}/comments", json={"content": content}, headers=who.auth
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.engine.connect() as connection:
            return list(await connection.execute(text(sql), params))

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as connection:
            return await connection.scalar(text(sql), params)


async def together(*calls: Awaitable[httpx.Response]) -> list[httpx.Response]:
    """Run the requests concurrently; every answer is returned, none may be a 500."""
    answers = list(await asyncio.gather(*calls))
    for answer in answers:
        assert answer.status_code < 500, f"{answer.status_code}: {answer.text}"
    return answers


def statuses(answers: Iterable[httpx.Response]) -> Counter[int]:
    return Counter(answer.status_code for answer in answers)

"""The HTTP suite: the real Litestar app driven in-process, on the memory adapters or PostgreSQL.

Two apps serve the whole session (rate limits off, outbox worker off, local storage and the
e-mail folder in a temporary directory): one on the in-memory repositories, one on the session's
PostgreSQL. A test runs on the memory app unless marked: ``@pytest.mark.postgres`` runs it on
PostgreSQL only (it looks at the database itself, or at what only PostgreSQL does), and
``@pytest.mark.every_backend`` runs it on both, which proves the fast fakes answer like the real
thing over HTTP. Lifespans run in the test event loop, so tests may call the container directly
(e.g. ``container.outbox.run_once()``) on the same connections.

The repositories are shared by every test of the session: tests create their own users (random
names) and only ever look at data they made.

Helpers are exposed as fixtures (``api``, ``anon``, ``mail``) rather than importable modules, so
the suite needs no package layout.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import functools
import os
import re
import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.memory.store import MemoryStore
from faros.adapters.security.argon2_hasher import Argon2PasswordHasher
from faros.entrypoints.bootstrap import Adapters, in_memory
from faros.entrypoints.settings import Settings

BASE_URL = "http://testserver"
FRONTEND = "http://localhost:5173"
ALLOWED_ORIGIN = "http://localhost:5173"
FOREIGN_ORIGIN = "https://evil.example"
PASSWORD = "correct-horse-1"


@functools.cache
def fast_hasher() -> Argon2PasswordHasher:
    """One for every app of this test process: each hasher keeps a worker process."""
    return Argon2PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def make_settings(folder: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "development",
        "data_dir": folder,
        "upload_dir": folder / "uploads",
        "frontend_url": FRONTEND,
        "rate_limits": False,
        "outbox_worker": False,
        "email_provider": "outbox-dir",
        "secret_key": "http-suite-secret-key-" + "x" * 32,
        "redis_url": None,
    }
    values.update(overrides)
    return Settings(**values)


def build_app(
    settings: Settings, database_url: str | None = None, *, store: MemoryStore | None = None
) -> Litestar:
    """An app on PostgreSQL at `database_url`, else on the in-memory repositories (`store`)."""
    from faros.entrypoints.http.app import create_app

    if database_url is not None:
        return create_app(settings, database_url=database_url, hasher=fast_hasher())
    adapters = Adapters(persistence=in_memory(store), hasher=fast_hasher())
    return create_app(settings, adapters=adapters)


def new_client(app: Litestar, *, client_ip: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(client_ip, 50000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL)


@asynccontextmanager
async def running(application: Litestar) -> AsyncIterator[Litestar]:
    """Run the app's lifespan in a task of its own.

    Litestar's lifespan holds an anyio cancel scope, which must be left by the task that
    entered it; fixture set-up and tear-down may run in different tasks.
    """
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
        task.result()  # start-up failed: raise its error
    try:
        yield application
    finally:
        stop.set()
        await task


def unique(prefix: str = "u") -> str:
    """A short, D11-safe, collision-free name."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def http_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="faros-http-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def http_redis_url(request: pytest.FixtureRequest) -> str | None:
    """This session's own throw-away Redis when one can be started, else no Redis.

    A Redis shared through FAROS_TEST_REDIS_URL is not used: the app's cache keys
    (`stats:user_<id>`) have no per-database prefix, so parallel sessions would read each
    other's statistics.
    """
    if os.environ.get("FAROS_TEST_REDIS_URL"):
        return None
    from faros.adapters.redis.cache import RedisCache

    if not hasattr(RedisCache, "ping"):
        # bootstrap.py calls `RedisCache.ping`, which the adapter lacks: the app cannot start
        # with Redis. The suite then runs on the in-memory cache, and redis/test_http_redis.py
        # fails to say so.
        return None
    try:
        url: str = request.getfixturevalue("redis_url")
    except pytest.skip.Exception:
        return None
    return url


BACKENDS = ("memory", "postgres")
# A test that reads or writes the database itself can only run on PostgreSQL.
DATABASE_FIXTURES = frozenset({"engine", "database_url", "database_factory"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Choose the backends of every test that uses the session app (see the module docstring)."""
    if "backend" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker
    if marker("postgres"):
        backends = ["postgres"]
    elif marker("every_backend"):
        backends = list(BACKENDS)
    else:
        backends = ["memory"]
    touches_database = DATABASE_FIXTURES.intersection(metafunc.fixturenames)
    if "memory" in backends and touches_database:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid} uses {sorted(touches_database)} with the memory app: "
            "mark it @pytest.mark.postgres"
        )
    # Session scope: each app is started once, whichever order the tests run in.
    metafunc.parametrize("backend", backends, indirect=True, scope="session")


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def memory_store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture(scope="session")
async def memory_app(http_folder: Path, memory_store: MemoryStore) -> AsyncIterator[Litestar]:
    settings = make_settings(http_folder / "memory")
    application = build_app(settings, store=memory_store)
    async with running(application):
        yield application


@pytest.fixture(scope="session")
async def postgres_app(
    database_url: str, http_folder: Path, http_redis_url: str | None
) -> AsyncIterator[Litestar]:
    settings = make_settings(http_folder / "postgres", redis_url=http_redis_url)
    application = build_app(settings, database_url)
    async with running(application):
        yield application


@pytest.fixture(scope="session")
def app(backend: str, request: pytest.FixtureRequest) -> Litestar:
    """The session app of this test's backend (both keep running for the whole session)."""
    application: Litestar = request.getfixturevalue(f"{backend}_app")
    return application


@pytest.fixture(scope="session")
def container(app: Litestar) -> Any:
    return app.state.container


@pytest.fixture(scope="session")
def outbox_dir(container: Any) -> Path:
    folder: Path = container.settings.outbox_dir
    return folder


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(app) as http:
        yield http


@pytest.fixture
async def anon(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A second client that never holds a cookie of the main one."""
    async with new_client(app) as http:
        yield http


# --------------------------------------------------------------------------- helpers


@dataclass
class Account:
    id: int
    username: str
    email: str
    password: str
    token: str
    profile: dict[str, Any] = field(default_factory=dict)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    """Small helpers over one client; every call authenticates with a Bearer header."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def register(
        self, username: str | None = None, email: str | None = None, password: str = PASSWORD
    ) -> dict[str, Any]:
        username = username or unique()
        email = email or f"{username}@example.com"
        response = await self.client.post(
            "/auth/register", json={"username": username, "email": email, "password": password}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def login(self, username: str, password: str = PASSWORD) -> str:
        self.client.cookies.clear()
        response = await self.client.post(
            "/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        # Keep the client cookie-free: tests choose their transport explicitly.
        self.client.cookies.clear()
        token: str = response.json()["access_token"]
        return token

    async def user(self, prefix: str = "u", password: str = PASSWORD) -> Account:
        username = unique(prefix)
        created = await self.register(username, password=password)
        token = await self.login(username, password)
        return Account(created["id"], username, created["email"], password, token, created)

    async def register_and_login(self) -> tuple[dict[str, Any], str]:
        account = await self.user()
        return account.profile, account.token

    async def task(self, who: Account, **fields: Any) -> dict[str, Any]:
        body = {"title": "Task " + secrets.token_hex(3), **fields}
        response = await self.client.post("/tasks", json=body, headers=who.auth)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def share(
        self, owner: Account, task_id: int, target: Account, permission: str = "view"
    ) -> dict[str, Any]:
        response = await self.client.post(
            f"/tasks/{task_id}/share",
            json={"shared_with_username": target.username, "permission": permission},
            headers=owner.auth,
        )
        assert response.status_code == 201, response.text
        share: dict[str, Any] = response.json()
        return share

    async def unshare(self, owner: Account, task_id: int, target: Account) -> None:
        response = await self.client.delete(
            f"/tasks/{task_id}/share/{target.username}", headers=owner.auth
        )
        assert response.status_code == 204, response.text

    async def comment(self, who: Account, task_id: int, content: str = "hi") -> dict[str, Any]:
        response = await self.client.post(
            f"/tasks/{task_id}/comments", json={"content": content}, headers=who.auth
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def upload(
        self, who: Account, task_id: int, name: str = "note.txt", data: bytes = b"hello"
    ) -> dict[str, Any]:
        response = await self.client.post(
            f"/tasks/{task_id}/files",
            files={"file": (name, data, "text/plain")},
            headers=who.auth,
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def get(self, who: Account, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, headers=who.auth, **kwargs)

    async def verify_email(self, who: Account, mail: Mail) -> None:
        response = await self.client.post("/notifications/send-verification", headers=who.auth)
        assert response.status_code == 200, response.text
        token = await mail.token_for(who.email, "/verify")
        response = await self.client.post("/notifications/verify", json={"token": token})
        assert response.status_code == 200, response.text


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)


TOKEN_IN_LINK = re.compile(r"[?&]token=([A-Za-z0-9_\-%.~]+)")


QueuedMails = Callable[[str], Awaitable[list[dict[str, Any]]]]


class Mail:
    """E-mails queued for an address, read from the durable outbox (`faros.outbox`).

    The app's outbox worker is off, so the outbox is worked through first: some e-mails (the
    password-reset link, D10) are only queued by the worker, from a request it handles.
    """

    def __init__(self, container: Any, queued: QueuedMails) -> None:
        self._container = container
        self._queued = queued

    async def to(self, address: str) -> list[dict[str, Any]]:
        while await self._container.outbox.run_once():
            pass
        return await self._queued(address)

    async def subjects(self, address: str) -> list[str]:
        return [str(item["subject"]) for item in await self.to(address)]

    async def token_for(self, address: str, path: str) -> str:
        """The token of the newest e-mail to `address` whose link goes to `<frontend><path>`."""
        for message in reversed(await self.to(address)):
            body = str(message["text"])
            if f"{FRONTEND}{path}?token=" in body:
                found = TOKEN_IN_LINK.search(body[body.index(f"{FRONTEND}{path}?") :])
                assert found is not None
                return unquote(found.group(1))
        raise AssertionError(f"no e-mail with a {path} link to {address}")


def queued_in_postgres(engine: AsyncEngine) -> QueuedMails:
    async def queued(address: str) -> list[dict[str, Any]]:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT payload FROM faros.outbox WHERE kind = 'send_email' "
                    "AND payload->>'to' = :to ORDER BY id"
                ),
                {"to": address},
            )
            return [dict(row.payload) for row in rows]

    return queued


def queued_in_memory(store: MemoryStore) -> QueuedMails:
    async def queued(address: str) -> list[dict[str, Any]]:
        rows = sorted(store.outbox.values(), key=lambda row: row.id)
        return [
            dict(row.payload)
            for row in rows
            if row.kind == "send_email" and row.payload.get("to") == address
        ]

    return queued


@pytest.fixture(scope="session")
def mail(backend: str, container: Any, request: pytest.FixtureRequest) -> Mail:
    if backend == "postgres":
        return Mail(container, queued_in_postgres(request.getfixturevalue("engine")))
    return Mail(container, queued_in_memory(request.getfixturevalue("memory_store")))


def read_eml(path: Path) -> email.message.EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def family_a_not_found(task_id: int) -> dict[str, Any]:
    return {
        "error": "Task Not Found",
        "message": f"Task with ID {task_id} not found",
        "task_id": task_id,
    }


FAMILY_A_FORBIDDEN = {
    "error": "Unauthorized Access",
    "message": "You do not have permission to access this task",
}
NOT_AUTHENTICATED = {"detail": "Not authenticated"}


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """The module-level helpers of this file, for test modules (no import of conftest needed)."""
    return SimpleNamespace(
        build_app=build_app,
        fast_hasher=fast_hasher,
        new_client=new_client,
        make_settings=make_settings,
        unique=unique,
        read_eml=read_eml,
        not_found=family_a_not_found,
        forbidden=FAMILY_A_FORBIDDEN,
        not_authenticated=NOT_AUTHENTICATED,
        Api=Api,
        running=running,
        allowed_origin=ALLOWED_ORIGIN,
        foreign_origin=FOREIGN_ORIGIN,
        own_origin=BASE_URL,
        frontend=FRONTEND,
        password=PASSWORD,
    )

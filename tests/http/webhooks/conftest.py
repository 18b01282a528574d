"""Webhook tests: an app of their own per backend, and a real HTTP receiver on loopback.

The session apps refuse private addresses (the default); these apps run with
`FAROS_WEBHOOK_ALLOW_PRIVATE=on` so that they may deliver to the receiver on 127.0.0.1, on a
`ManualClock` so that retries come due without waiting, and on a database of their own so
that draining the outbox touches no other test's messages. The outbox worker is off: tests
deliver with `container.outbox.run_once()`.

`app`, `container` (and through them `client`, `anon`, `api`) override the session fixtures.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from faros.adapters.memory.clock import ManualClock
from faros.entrypoints.bootstrap import Adapters, in_memory

BACKENDS = ["memory", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A minimal HTTP/1.1 server on 127.0.0.1 that records each request and answers `status`."""

    status: int = 200
    answer: bytes = b"ok"
    requests: list[Received] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(Received(method, path, headers, body))
            reason = b"OK" if self.status < 300 else b"Nope"
            writer.write(
                b"HTTP/1.1 %d %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                % (self.status, reason, len(self.answer), self.answer)
            )
            await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


async def _start(kit: Any, folder: Path, database_url: str | None) -> Litestar:
    from faros.entrypoints.http.app import create_app

    # The suite's settings, allowed to call the receiver on 127.0.0.1.
    settings = kit.make_settings(folder, webhook_allow_private=True)
    clock = ManualClock()
    if database_url is None:
        adapters = Adapters(persistence=in_memory(), hasher=kit.fast_hasher(), clock=clock)
        return create_app(settings, adapters=adapters)
    adapters = Adapters(hasher=kit.fast_hasher(), clock=clock)
    return create_app(settings, database_url=database_url, adapters=adapters)


@pytest.fixture(scope="module")
async def memory_hooks_app(
    tmp_path_factory: pytest.TempPathFactory, kit: Any
) -> AsyncIterator[Litestar]:
    folder = tmp_path_factory.mktemp("hooks-memory")
    async with kit.running(await _start(kit, folder, None)) as application:
        yield application


@pytest.fixture(scope="module")
async def postgres_hooks_app(
    tmp_path_factory: pytest.TempPathFactory, database_factory: Any, kit: Any
) -> AsyncIterator[Litestar]:
    folder = tmp_path_factory.mktemp("hooks-postgres")
    database_url = await database_factory.create()
    async with kit.running(await _start(kit, folder, database_url)) as application:
        yield application


@pytest.fixture(scope="module", params=BACKENDS)
def app(request: pytest.FixtureRequest) -> Litestar:
    application: Litestar = request.getfixturevalue(f"{request.param}_hooks_app")
    return application


@pytest.fixture(scope="module")
def container(app: Litestar) -> Any:
    return app.state.container


@pytest.fixture
def clock(container: Any) -> ManualClock:
    found: ManualClock = container.clock
    return found


@pytest.fixture
def outbox(container: Any) -> Any:
    async def drain(rounds: int = 5) -> None:
        for _ in range(rounds):
            if await container.outbox.run_once() == 0:
                return

    return drain

"""Shared by the outbox and worker tests: queueing messages, reading the outbox table back, and
an SMTP receiver that can hold its answers (a provider that stalls) or not be there at all.

Imported as a top-level module: tests/outbox and tests/system/worker put this folder and
tests/contract (for `email_receivers`) on `sys.path` in their conftest.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

import pytest
from aiosmtpd.controller import Controller
from email_receivers import free_port, parse_mime
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres.engine import create_engine
from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.domain import outbox
from faros.domain.emails import EmailMessage
from faros.ports.unit_of_work import UnitOfWorkFactory

SENDER = "faros@example.com"

# --------------------------------------------------------------------------- fixtures
# A database of each test's own (about 0.5 s): a worker leases every due message it finds and
# the due-soon job scans every task, so tests sharing one would take each other's work.


@pytest.fixture
async def own_url(database_factory: Any) -> str:
    url: str = await database_factory.create()
    return url


@pytest.fixture
async def own_engine(own_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(own_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
def own_uow(own_engine: AsyncEngine) -> PostgresUnitOfWorkFactory:
    return PostgresUnitOfWorkFactory(own_engine)


# --------------------------------------------------------------------------- helpers


def email(n: int, to: str | None = None, tag: str = "m") -> EmailMessage:
    """A small e-mail whose subject identifies it: `<tag>-<n>`."""
    return EmailMessage(to or f"{tag}-{n}@example.com", f"{tag}-{n}", f"text {n}", f"<p>{n}</p>")


async def queue(
    uow: UnitOfWorkFactory, messages: Iterable[EmailMessage], now: datetime, *, one_tx: bool
) -> None:
    """Queue e-mails: all in one transaction, or one transaction each (like requests)."""
    if one_tx:
        async with uow() as unit:
            for message in messages:
                await unit.outbox.add(outbox.send_email(message), now)
            await unit.commit()
        return
    for message in messages:
        async with uow() as unit:
            await unit.outbox.add(outbox.send_email(message), now)
            await unit.commit()


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    subject: str | None
    status: str
    attempts: int
    available_at: datetime
    created_at: datetime
    processed_at: datetime | None
    last_error: str | None


async def rows(engine: AsyncEngine) -> list[Row]:
    async with engine.connect() as connection:
        result = await connection.execute(
            text(
                "SELECT id, payload->>'subject' AS subject, status, attempts, available_at, "
                "created_at, processed_at, last_error FROM faros.outbox ORDER BY id"
            )
        )
        return [Row(**row._mapping) for row in result]


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float = 60.0, what: str = "condition"
) -> None:
    """Poll `check` until it holds; fail after `within` seconds (generous: a bound for a
    loaded machine, where starting a Python process alone can take ten seconds)."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def all_done(engine: AsyncEngine) -> bool:
    return all(row.status == "done" for row in await rows(engine))


# --------------------------------------------------------------------------- SMTP receiver


@dataclass(frozen=True, slots=True)
class Arrival:
    to: list[str]
    raw: bytes

    @property
    def subject(self) -> str:
        return parse_mime(self.raw).subject

    @property
    def text(self) -> str:
        return parse_mime(self.raw).text


class _HoldingHandler:
    """Takes each message when its data has arrived (as a real relay commits it to its queue),
    then answers 250 only once the gate is open, for the recipients that `hold` selects."""

    def __init__(self, hold: Callable[[list[str]], bool]) -> None:
        self.hold = hold
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()
        self.arrivals: list[Arrival] = []
        self.held = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # Parsed only when a test reads it: the relay must keep up with the workers.
        arrival = Arrival(list(envelope.rcpt_tos), envelope.content)
        with self.lock:
            self.arrivals.append(arrival)
        if self.hold(arrival.to) and not self.gate.is_set():
            with self.lock:
                self.held += 1
            try:
                # In a thread: the receiver's loop must keep serving the other connections.
                await asyncio.to_thread(self.gate.wait)
            finally:
                with self.lock:
                    self.held -= 1
        return "250 Message accepted for delivery"


class SmtpReceiver:
    """An aiosmtpd relay on a port chosen up front, so it can be down before it is up.

    `hold_replies()` makes it stall (answers wait for `release()`), for the recipients that
    `hold` selects (all by default).
    """

    def __init__(self, hold: Callable[[list[str]], bool] = lambda _to: True) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self._handler = _HoldingHandler(hold)
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self._handler, hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        self.release()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def hold_replies(self) -> None:
        self._handler.gate.clear()

    def release(self) -> None:
        self._handler.gate.set()

    @property
    def held(self) -> int:
        with self._handler.lock:
            return self._handler.held

    @property
    def arrivals(self) -> list[Arrival]:
        with self._handler.lock:
            return list(self._handler.arrivals)

    def subjects(self) -> Counter[str]:
        """How often each subject arrived."""
        return Counter(arrival.subject for arrival in self.arrivals)

"""The transactional outbox in PostgreSQL, and the wake-up of its workers (LISTEN/NOTIFY).

Queuing a message also notifies the channel `faros_outbox`; PostgreSQL delivers that only when
the transaction commits, and sends one notification however many messages it queued. Workers
that listen (`OutboxListener`) then deliver at once instead of at their next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import Row, bindparam, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import make_url

from faros.adapters.postgres.database import Database
from faros.adapters.postgres.engine import to_asyncpg_url
from faros.adapters.postgres.query import Query
from faros.adapters.postgres.tables import outbox
from faros.adapters.postgres.values import BIGINT_SAFE, utc
from faros.domain.outbox import NewOutboxMessage, OutboxMessage

logger = logging.getLogger("faros.outbox")

_o = outbox.c
CHANNEL = "faros_outbox"
# A NULL dedupe key never conflicts, so every message can go through the same statement.
# The notification rides in the same statement (no extra round trip) and is sent only for a
# row actually inserted: a message dropped as a duplicate wakes nobody.
_INSERTED = (
    insert(outbox)
    .values(
        kind=bindparam("kind"),
        payload=bindparam("payload", type_=_o.payload.type),
        dedupe_key=bindparam("dedupe_key"),
        status="pending",
        attempts=0,
        available_at=bindparam("now"),
        created_at=bindparam("now"),
    )
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(_o.id)
    .cte("added")
)
_ADD = Query(
    select(func.pg_notify(literal(CHANNEL), literal(""))).select_from(_INSERTED),
    transactional=True,
)
# Rows stay locked until the claiming unit of work ends; SKIP LOCKED lets other workers take
# the next due rows instead of waiting. The partial index on pending rows serves the order.
_CLAIM = Query(
    select(_o.id, _o.kind, _o.payload, _o.attempts, _o.created_at)
    .where(_o.status == "pending", _o.available_at <= bindparam("now"))
    .order_by(_o.available_at, _o.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True),
    transactional=True,
)
# The due rows are locked (skipping those another worker holds) in a CTE PostgreSQL runs once,
# then counted as attempted and pushed past the lease, all in one statement.
_DUE = (
    select(_o.id)
    .where(_o.status == "pending", _o.available_at <= bindparam("now"))
    .order_by(_o.available_at, _o.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
    .cte("due")
    .prefix_with("MATERIALIZED")
)
_LEASE = Query(
    update(outbox)
    .where(_o.id == _DUE.c.id)
    .values(attempts=_o.attempts + 1, available_at=bindparam("until"))
    .returning(_o.id, _o.kind, _o.payload, _o.attempts, _o.created_at),
    transactional=True,
)
_DONE = Query(
    update(outbox)
    .where(_o.id == bindparam("message_id"))
    .values(status="done", processed_at=bindparam("now")),
    transactional=True,
)
_RETRY = Query(
    update(outbox)
    .where(_o.id == bindparam("message_id"))
    .values(
        attempts=bindparam("attempts"),
        available_at=bindparam("available_at"),
        last_error=bindparam("error"),
    ),
    transactional=True,
)
_DEAD = Query(
    update(outbox)
    .where(_o.id == bindparam("message_id"))
    .values(
        status="dead",
        attempts=bindparam("attempts"),
        processed_at=bindparam("now"),
        last_error=bindparam("error"),
    ),
    transactional=True,
)
_PENDING = Query(select(func.count().label("n")).select_from(outbox).where(_o.status == "pending"))


def _storable(error: str) -> str:
    # Error texts come from arbitrary exceptions; a NUL would make the update itself fail.
    return error.replace("\x00", "\\x00")


def _from_row(row: Row[Any]) -> OutboxMessage:
    return OutboxMessage(
        id=row.id,
        kind=row.kind,
        payload=row.payload,
        attempts=row.attempts,
        created_at=utc(row.created_at),
    )


class PostgresOutboxRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, message: NewOutboxMessage, now: datetime) -> None:
        params = {
            "kind": message.kind,
            "payload": message.payload,
            "dedupe_key": message.dedupe_key,
            "now": now,
        }
        await self._db.execute(_ADD, params)

    async def claim(self, now: datetime, limit: int) -> list[OutboxMessage]:
        if limit <= 0:
            return []
        params = {"now": now, "limit": min(limit, BIGINT_SAFE)}
        return [_from_row(row) for row in await self._db.execute(_CLAIM, params)]

    async def lease(self, now: datetime, until: datetime, limit: int) -> list[OutboxMessage]:
        if limit <= 0:
            return []
        params = {"now": now, "until": until, "limit": min(limit, BIGINT_SAFE)}
        rows = await self._db.execute(_LEASE, params)
        return sorted((_from_row(row) for row in rows), key=lambda message: message.id)

    async def mark_done(self, message_id: int, now: datetime) -> None:
        await self._db.execute(_DONE, {"message_id": message_id, "now": now})

    async def mark_retry(
        self, message_id: int, attempts: int, available_at: datetime, error: str
    ) -> None:
        params = {
            "message_id": message_id,
            "attempts": attempts,
            "available_at": available_at,
            "error": _storable(error),
        }
        await self._db.execute(_RETRY, params)

    async def mark_dead(self, message_id: int, attempts: int, now: datetime, error: str) -> None:
        params = {
            "message_id": message_id,
            "attempts": attempts,
            "now": now,
            "error": _storable(error),
        }
        await self._db.execute(_DEAD, params)

    async def pending_count(self) -> int:
        return int((await self._db.execute(_PENDING))[0].n)


def _connect_args(url: str) -> dict[str, Any]:
    """asyncpg.connect() arguments for a plain URL, translated as the engines' are."""
    dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
    _args, kwargs = dialect.create_connect_args(  # type: ignore[no-untyped-call]
        make_url(to_asyncpg_url(url))
    )
    if "timeout" in kwargs:  # from connect_timeout in the URL's query: a string there
        kwargs["timeout"] = float(kwargs["timeout"])
    kwargs["server_settings"] = {"application_name": "faros-outbox-listener"}
    return dict(kwargs)


_FIRST_DELAY = 0.25


class OutboxListener:
    """Calls `wake()` whenever a transaction that queued an outbox message commits.

    Holds one dedicated connection that LISTENs on `CHANNEL`. A lost connection (database
    restart, network) is noticed at once when the socket closes, or by a `SELECT 1` every
    `check_seconds` when it hangs; the listener then reconnects with a growing delay and calls
    `wake()` on every (re)connection, since messages may have been committed meanwhile.
    A wake-up is only a hint: the worker keeps polling, more slowly, in case one is missed.
    """

    def __init__(self, url: str, *, check_seconds: float = 30.0, max_delay: float = 10.0) -> None:
        self._connect_args = _connect_args(url)
        self._check_seconds = check_seconds
        self._max_delay = max_delay
        # For tests and health: whether it listens now, and how often it (re)connected.
        self.connected = asyncio.Event()
        self.connections = 0

    async def run(self, wake: Callable[[], None], stop: asyncio.Event) -> None:
        delay = _FIRST_DELAY
        while not stop.is_set():
            connections = self.connections
            try:
                await self._listen(wake, stop)
            # Whatever broke (refused, reset, timed out, server shutting down), try again later:
            # the listener must outlive any outage of the database.
            except Exception as error:  # noqa: BLE001
                logger.warning(
                    "outbox listener lost the database (%s: %s); reconnecting in %gs",
                    type(error).__name__, error, delay,
                )  # fmt: skip
                if self.connections != connections:  # it had been up: a new outage
                    delay = _FIRST_DELAY
                await _wait(stop, delay)
                delay = min(delay * 2, self._max_delay)

    async def _listen(self, wake: Callable[[], None], stop: asyncio.Event) -> None:
        connection = await asyncpg.connect(**self._connect_args)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(CHANNEL, lambda *_args: wake())
            self.connections += 1
            self.connected.set()
            wake()
            while not (stop.is_set() or lost.is_set()):
                await _wait_any(stop, lost, self._check_seconds)
                if not (stop.is_set() or lost.is_set()):
                    await connection.fetchval("SELECT 1", timeout=self._check_seconds)
            if lost.is_set() and not stop.is_set():
                raise ConnectionResetError("the listening connection was closed")
        finally:
            self.connected.clear()
            connection.terminate()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _wait_any(first: asyncio.Event, second: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()

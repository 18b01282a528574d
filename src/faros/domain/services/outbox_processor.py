"""Carrying out queued side effects (e-mails, stored-object removals) with retries.

Each message is delivered at least once, never lost, never by two healthy workers at once:
`OutboxProcessor` says how and why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from faros.domain.outbox import (
    MAX_ATTEMPTS,
    OutboxKind,
    OutboxMessage,
    email_from_payload,
    max_attempts_of,
    retry_delay_seconds,
    retry_outlives_window,
)
from faros.ports.blob_storage import BlobStorage
from faros.ports.clock import Clock
from faros.ports.email_sender import EmailSender
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger("faros.outbox")

BATCH_SIZE = 10
# Bounds one provider call, so one hung call delays only its own message.
TIMEOUT_SECONDS = 30.0
# A healthy worker records every outcome well within this; only a dead one's messages expire.
LEASE_SECONDS = 120.0

Delivery = Callable[[], Awaitable[None]]
OutboxJob = Callable[[UnitOfWork, OutboxMessage], Awaitable[None]]
# Carries a message out and records what it must itself; raising means "retry later".
OutboxHandler = Callable[[OutboxMessage], Awaitable[None]]


class MalformedMessage(Exception):
    """The payload cannot be read: retrying would fail the same way."""


class OutboxProcessor:
    """Leases due outbox messages, delivers them and records each outcome.

    How a message travels
    ---------------------
    1. A use case writes it to the outbox in the same transaction as the change that causes it:
       a change that rolls back sends nothing, a change that commits cannot lose its message.
    2. `run_once` *leases* up to `batch_size` due messages in one short transaction: each one's
       attempt is counted and it is hidden from every other worker until the lease ends
       (`lease_seconds`). Concurrent workers lease disjoint sets (the lease skips rows another
       transaction holds). The lease commits before any delivery starts, so no row lock and no
       pooled connection is held while a provider is slow.
    3. The batch is delivered concurrently, each message for at most `timeout_seconds`, and each
       outcome is recorded in its own short transaction as soon as it is known: done; due again
       after an exponential backoff (`retry_delay_seconds`); or, after `max_attempts`, dead, with
       its last error kept and logged as an error.

    What that guarantees
    --------------------
    - Nothing is lost. A message leased by a worker that dies comes back when its lease ends.
    - At least once, not exactly once. A worker that dies, or loses the database, after a provider
      accepted a message but before its outcome was recorded sends it again after the lease ends.
      That can only happen to the messages in flight at that moment, since each outcome is
      recorded on its own. A provider call cut off by the timeout may still complete at the
      provider (an SMTP conversation runs on in its thread), and will then be sent again as a retry.
    - Two healthy workers never send the same message: a lease belongs to one worker, and a
      healthy worker records the outcome within the timeout plus one short transaction, well inside
      the lease. (The clocks of the machines involved must agree to within that margin.)
    - Poison messages end. An attempt is counted when it starts, so a message that hangs until
      the timeout, or kills the worker, every time is dead after `max_attempts` like any other;
      a message whose payload cannot be read is dead at once.

    Why not deliver inside the claiming transaction (row locks held until commit)? A dead worker's
    messages would be free again at once, but a failed commit would repeat the whole batch, the
    slowest provider call would hold the row locks and a pooled connection (in the server, one the
    HTTP requests need), and an attempt that kills the process would never be counted.

    Jobs
    ----
    A message of a kind given in `jobs` is carried out by changing the database rather than by
    calling out: the job runs in a unit of work that also marks the message done, so its effect
    and its completion commit together or not at all (a failure rolls both back and the message is
    retried like any other). A job that has something to send queues it as a message in turn: the
    password-reset request (D10) looks up the account, stores a token and queues its e-mail.

    When to call `run_once` (polling, LISTEN/NOTIFY wake-ups) is `faros.entrypoints.background`'s
    business.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        email: EmailSender,
        storage: BlobStorage,
        batch_size: int = BATCH_SIZE,
        max_attempts: int = MAX_ATTEMPTS,
        *,
        timeout_seconds: float = TIMEOUT_SECONDS,
        lease_seconds: float = LEASE_SECONDS,
        jobs: Mapping[OutboxKind, OutboxJob] | None = None,
        handlers: Mapping[OutboxKind, OutboxHandler] | None = None,
    ) -> None:
        if lease_seconds <= timeout_seconds:
            raise ValueError("the lease must outlast the delivery timeout")
        self._uow = uow
        self._clock = clock
        self._email = email
        self._storage = storage
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._timeout = timeout_seconds
        self._lease = timedelta(seconds=lease_seconds)
        self._jobs: dict[OutboxKind, OutboxJob] = dict(jobs or {})
        self._handlers: dict[OutboxKind, OutboxHandler] = dict(handlers or {})

    async def run_once(self) -> int:
        """Lease one batch of due messages, deliver them, record each outcome.

        Returns how many messages were leased (0: nothing was due).
        """
        now = self._clock.now()
        async with self._uow() as uow:
            batch = await uow.outbox.lease(now, now + self._lease, self._batch_size)
            await uow.commit()
        if batch:
            await asyncio.gather(*(self._process(message) for message in batch))
        return len(batch)

    async def _process(self, message: OutboxMessage) -> None:
        try:
            most = max_attempts_of(message.kind, self._max_attempts)
            if message.attempts > most:
                # This lease counted an attempt beyond the last; it is not made.
                await self._give_up(
                    message,
                    "no outcome was recorded for the last attempt: the worker stopped or lost "
                    "the database during delivery",
                    attempts=most,
                )
                return
            try:
                delivery = self._delivery(message)
            except MalformedMessage as error:
                await self._give_up(message, f"malformed message: {error}")
                return
            limit = asyncio.timeout(self._timeout)
            try:
                async with limit:
                    await delivery()
            # Whatever a provider or storage raises, the message is retried later.
            except Exception as error:  # noqa: BLE001
                cut_off = isinstance(error, TimeoutError) and limit.expired()
                reason = (
                    f"no answer within {self._timeout:g} seconds"
                    if cut_off
                    else f"{type(error).__name__}: {error}"
                )
                await self._failed(message, reason)
            else:
                if message.kind not in self._jobs:  # a job's own commit recorded it
                    await self._record_done(message)
        # The database went away while recording: the lease brings the message back later.
        except Exception:
            logger.exception("could not record the outcome of outbox message %s", message.id)

    def _delivery(self, message: OutboxMessage) -> Delivery:
        """The call that carries `message` out, built before anything is sent."""
        job = self._jobs.get(message.kind)
        if job is not None:
            return lambda: self._run_job(job, message)
        handler = self._handlers.get(message.kind)
        if handler is not None:
            return lambda: handler(message)
        try:
            if message.kind == "send_email":
                email = email_from_payload(message.payload)
                return lambda: self._email.send(email)
            if message.kind == "delete_blob":
                key = str(message.payload["key"])
                return lambda: self._storage.delete(key)
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedMessage(f"{type(error).__name__}: {error}") from error
        raise MalformedMessage(f"unknown kind {message.kind!r}")

    async def _run_job(self, job: OutboxJob, message: OutboxMessage) -> None:
        async with self._uow() as uow:
            await job(uow, message)
            await uow.outbox.mark_done(message.id, self._clock.now())
            await uow.commit()

    async def _record_done(self, message: OutboxMessage) -> None:
        async with self._uow() as uow:
            await uow.outbox.mark_done(message.id, self._clock.now())
            await uow.commit()

    async def _failed(self, message: OutboxMessage, error: str) -> None:
        most = max_attempts_of(message.kind, self._max_attempts)
        delay = retry_delay_seconds(message.attempts, message.kind)
        retry_at = self._clock.now() + timedelta(seconds=delay)
        if message.attempts >= most or retry_outlives_window(message, retry_at):
            await self._give_up(message, error)
            return
        logger.warning(
            "outbox message %s (%s) failed (attempt %s of %s, next in %gs): %s",
            message.id, message.kind, message.attempts, most, delay, error[:1000],
        )  # fmt: skip
        async with self._uow() as uow:
            await uow.outbox.mark_retry(message.id, message.attempts, retry_at, error[:1000])
            await uow.commit()

    async def _give_up(
        self, message: OutboxMessage, error: str, attempts: int | None = None
    ) -> None:
        attempts = message.attempts if attempts is None else attempts
        logger.error(
            "outbox message %s (%s) failed for good after %s attempts: %s",
            message.id, message.kind, attempts, error[:1000],
        )  # fmt: skip
        async with self._uow() as uow:
            await uow.outbox.mark_dead(message.id, attempts, self._clock.now(), error[:1000])
            await uow.commit()

"""Background loops: the outbox worker and the periodic due-soon reminder job.

They run inside the server process by default (`FAROS_OUTBOX_WORKER=on`) and in their own
process with `faros worker`. Several copies may run against one database: the outbox leases
messages with `FOR UPDATE SKIP LOCKED` and reminders are de-duplicated by key, so nothing is
sent twice (`faros.domain.services.outbox_processor.OutboxProcessor` states the guarantees).

When to look for work: given a database URL, an `OutboxListener` wakes the worker as soon as
a transaction that queued a message commits (PostgreSQL LISTEN/NOTIFY), and the worker polls
only every `LISTENING_POLL_SECONDS`, for retries coming due and wake-ups that were missed.
Without it (or while its connection is down) the worker polls every `OUTBOX_POLL_SECONDS`.
A worker that cannot reach the database keeps trying every `ERROR_BACKOFF_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from faros.adapters.postgres.outbox import OutboxListener
from faros.domain.errors import ServiceUnavailable
from faros.domain.services.notifications import NotificationService
from faros.domain.services.outbox_processor import OutboxProcessor

logger = logging.getLogger("faros.worker")

OUTBOX_POLL_SECONDS = 0.5
LISTENING_POLL_SECONDS = 2.0
REMINDER_INTERVAL_SECONDS = 600.0
ERROR_BACKOFF_SECONDS = 2.0


async def run_outbox(
    processor: OutboxProcessor,
    stop: asyncio.Event,
    wake: asyncio.Event | None = None,
    listener: OutboxListener | None = None,
    poll_seconds: float | None = None,
) -> None:
    """Deliver until `stop` is set; `wake` (set by a listener) cuts a wait short."""
    wake = wake or asyncio.Event()
    failures = 0
    while not stop.is_set():
        # Cleared before looking, so a wake-up arriving during the batch is not lost.
        wake.clear()
        try:
            handled = await processor.run_once()
        # Whatever failed (the database may be restarting), the loop must stay alive.
        except Exception as error:  # noqa: BLE001 - logged by _log_failure
            failures += 1
            _log_failure(error, failures)
            await _wait_any(stop, None, ERROR_BACKOFF_SECONDS)
            continue
        if failures:
            logger.info("outbox worker recovered after %s failed attempts", failures)
            failures = 0
        if handled == 0:
            await _wait_any(stop, wake, poll_seconds or _poll_seconds(listener))


def _log_failure(error: Exception, failures: int) -> None:
    if isinstance(error, ServiceUnavailable):  # expected while the database restarts
        logger.warning(
            "outbox worker cannot reach the database (failure %s); retrying in %gs",
            failures, ERROR_BACKOFF_SECONDS,
        )  # fmt: skip
    elif failures == 1:
        logger.exception("outbox batch failed; retrying in %gs", ERROR_BACKOFF_SECONDS)
    else:
        logger.warning("outbox batch failed again (failure %s): %s", failures, error)


def _poll_seconds(listener: OutboxListener | None) -> float:
    if listener is not None and listener.connected.is_set():
        return LISTENING_POLL_SECONDS
    return OUTBOX_POLL_SECONDS


async def run_reminders(notifications: NotificationService, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            queued = await notifications.queue_due_soon_reminders()
            if queued:
                logger.info("queued %s due-soon reminders", queued)
        except Exception:
            logger.exception("due-soon reminder job failed")
        await _wait_any(stop, None, REMINDER_INTERVAL_SECONDS)


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event | None, seconds: float) -> None:
    """Return when `stop` or `wake` is set, or after `seconds`."""
    waiters = [asyncio.ensure_future(event.wait()) for event in (stop, wake) if event is not None]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


class BackgroundJobs:
    """Starts the loops as tasks and stops them cleanly.

    `listen_url`: the database to LISTEN on for new messages (omit to rely on polling only).
    """

    def __init__(
        self,
        processor: OutboxProcessor,
        notifications: NotificationService,
        *,
        listen_url: str | None = None,
        poll_seconds: float | None = None,
    ) -> None:
        self._processor = processor
        self._notifications = notifications
        self.listener = OutboxListener(listen_url) if listen_url else None
        self._poll_seconds = poll_seconds
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listening: asyncio.Task[None] | None = None

    def start(self) -> None:
        outbox = run_outbox(
            self._processor, self._stop, self._wake, self.listener, self._poll_seconds
        )
        self._tasks = [
            asyncio.create_task(outbox, name="faros-outbox"),
            asyncio.create_task(
                run_reminders(self._notifications, self._stop), name="faros-reminders"
            ),
        ]
        if self.listener is not None:
            self._listening = asyncio.create_task(
                self.listener.run(self._wake.set, self._stop), name="faros-outbox-listener"
            )

    async def stop(self) -> None:
        """Let the batch in flight finish (bounded by the delivery timeout), then return."""
        self._stop.set()
        if self._listening is not None:
            # Holds nothing worth finishing; it may be stuck connecting to a dead database.
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
            self._listening = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def wait(self) -> None:
        await asyncio.gather(*self._tasks)

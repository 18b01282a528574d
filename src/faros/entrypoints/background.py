"""Background loops: the outbox worker and the periodic due-soon reminder job.

They run inside the server process by default (`FAROS_OUTBOX_WORKER=on`) and in their own
process with `faros worker`. Several copies may run against one database: the outbox claims
rows with `FOR UPDATE SKIP LOCKED` and reminders are de-duplicated by key, so nothing is sent
twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from faros.domain.services.delivery import OutboxProcessor
from faros.domain.services.notifications import NotificationService

logger = logging.getLogger("faros.worker")

OUTBOX_POLL_SECONDS = 0.5
REMINDER_INTERVAL_SECONDS = 600.0
ERROR_BACKOFF_SECONDS = 5.0


async def run_outbox(processor: OutboxProcessor, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            handled = await processor.run_once()
        except Exception:
            # The database may be restarting; keep the loop alive and try again shortly.
            logger.exception("outbox batch failed")
            handled = 0
            await _wait(stop, ERROR_BACKOFF_SECONDS)
            continue
        if handled == 0:
            await _wait(stop, OUTBOX_POLL_SECONDS)


async def run_reminders(notifications: NotificationService, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            queued = await notifications.queue_due_soon_reminders()
            if queued:
                logger.info("queued %s due-soon reminders", queued)
        except Exception:
            logger.exception("due-soon reminder job failed")
        await _wait(stop, REMINDER_INTERVAL_SECONDS)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class BackgroundJobs:
    """Starts both loops as tasks and stops them cleanly."""

    def __init__(self, processor: OutboxProcessor, notifications: NotificationService) -> None:
        self._processor = processor
        self._notifications = notifications
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(run_outbox(self._processor, self._stop), name="faros-outbox"),
            asyncio.create_task(
                run_reminders(self._notifications, self._stop), name="faros-reminders"
            ),
        ]

    async def stop(self) -> None:
        self._stop.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def wait(self) -> None:
        await asyncio.gather(*self._tasks)

"""Carrying out queued side effects: e-mails and stored-object removals, with retries."""

from __future__ import annotations

import logging
from datetime import timedelta

from faros.domain.outbox import MAX_ATTEMPTS, OutboxMessage, email_from_payload, retry_delay_seconds
from faros.ports.blob_storage import BlobStorage
from faros.ports.clock import Clock
from faros.ports.email_sender import EmailSender
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger("faros.outbox")


class OutboxProcessor:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        email: EmailSender,
        storage: BlobStorage,
        batch_size: int = 20,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._email = email
        self._storage = storage
        self._batch_size = batch_size
        self._max_attempts = max_attempts

    async def _deliver(self, message: OutboxMessage) -> None:
        if message.kind == "send_email":
            await self._email.send(email_from_payload(message.payload))
        elif message.kind == "delete_blob":
            await self._storage.delete(str(message.payload["key"]))
        else:
            raise ValueError(f"unknown outbox message kind {message.kind!r}")

    async def run_once(self) -> int:
        """Deliver one batch of due messages; returns how many were handled.

        Claimed rows stay locked until this unit of work commits, so no other worker can
        deliver them meanwhile; if the process dies first they become claimable again.
        """
        async with self._uow() as uow:
            batch = await uow.outbox.claim(self._clock.now(), self._batch_size)
            for message in batch:
                try:
                    await self._deliver(message)
                # Whatever a provider or storage raises, the message is retried later.
                except Exception as error:  # noqa: BLE001
                    await self._record_failure(uow, message, error)
                else:
                    await uow.outbox.mark_done(message.id, self._clock.now())
            await uow.commit()
        return len(batch)

    async def _record_failure(
        self, uow: UnitOfWork, message: OutboxMessage, error: Exception
    ) -> None:
        attempts = message.attempts + 1
        text = f"{type(error).__name__}: {error}"[:1000]
        now = self._clock.now()
        if attempts >= self._max_attempts:
            logger.error(
                "outbox message %s (%s) failed for good: %s", message.id, message.kind, text
            )
            await uow.outbox.mark_dead(message.id, attempts, now, text)
            return
        delay = timedelta(seconds=retry_delay_seconds(attempts))
        logger.warning("outbox message %s failed (attempt %s): %s", message.id, attempts, text)
        await uow.outbox.mark_retry(message.id, attempts, now + delay, text)

"""OutboxProcessor: delivering queued e-mails and blob removals, with retries (D15, D19)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from faros.adapters.email.outbox_dir import OutboxDirEmailSender
from faros.adapters.localfs.storage import LocalBlobStorage
from faros.domain import outbox
from faros.domain.emails import EmailMessage
from faros.domain.services.delivery import OutboxProcessor

from .conftest import World


def _processor(world: World, mail_dir: Path, blobs: Path, max_attempts: int = 8) -> OutboxProcessor:
    sender = OutboxDirEmailSender(mail_dir, "faros@example.com")
    return OutboxProcessor(
        world.uow, world.clock, sender, LocalBlobStorage(blobs), max_attempts=max_attempts
    )


async def _queue(world: World, *messages: outbox.NewOutboxMessage) -> None:
    async with world.uow() as uow:
        for message in messages:
            await uow.outbox.add(message, world.clock.now())
        await uow.commit()


async def _pending(world: World) -> int:
    async with world.uow() as uow:
        return await uow.outbox.pending_count()


async def _chunks() -> AsyncIterator[bytes]:
    yield b"bytes"


EMAIL = EmailMessage("to@example.com", "Subject", "text", "<p>html</p>")


async def test_due_messages_are_delivered_once(world: World, tmp_path: Path) -> None:
    storage = LocalBlobStorage(tmp_path / "blobs")
    await storage.put("task_1_x.txt", _chunks(), "text/plain")
    await _queue(world, outbox.send_email(EMAIL), outbox.delete_blob("task_1_x.txt"))
    processor = _processor(world, tmp_path / "mail", tmp_path / "blobs")

    assert await processor.run_once() == 2
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    assert await storage.exists("task_1_x.txt") is False
    assert await _pending(world) == 0
    assert await processor.run_once() == 0


async def test_failures_are_retried_with_backoff_then_given_up(
    world: World, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the mail folder should be")
    processor = _processor(world, blocked, tmp_path / "blobs", max_attempts=2)
    await _queue(world, outbox.send_email(EMAIL))

    assert await processor.run_once() == 1  # attempt 1 fails: retry in 2 seconds
    assert await _pending(world) == 1
    assert await processor.run_once() == 0  # not due yet
    world.clock.advance(2)
    [message] = await world.outbox()
    assert message.attempts == 1
    assert await processor.run_once() == 1  # attempt 2 fails: that was the last one
    assert await _pending(world) == 0
    world.clock.advance(3600)
    assert await processor.run_once() == 0

"""OutboxProcessor: delivering queued e-mails and blob removals, with retries (D15, D19)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from faros.adapters.email.outbox_dir import OutboxDirEmailSender
from faros.adapters.localfs.storage import LocalBlobStorage
from faros.domain import outbox
from faros.domain.emails import EmailMessage
from faros.domain.outbox import OutboxMessage
from faros.domain.services.outbox_processor import OutboxProcessor
from faros.ports.unit_of_work import UnitOfWork

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


async def test_a_job_commits_its_changes_with_its_completion(world: World, tmp_path: Path) -> None:
    """A job's writes and the message's "done" are one transaction: both or neither."""
    failures = [RuntimeError("the first run fails after writing")]

    async def job(uow: UnitOfWork, message: OutboxMessage) -> None:
        await uow.outbox.add(outbox.send_email(EMAIL), world.clock.now())
        if failures:
            raise failures.pop()

    sender = OutboxDirEmailSender(tmp_path / "mail", "faros@example.com")
    processor = OutboxProcessor(
        world.uow, world.clock, sender, LocalBlobStorage(tmp_path / "blobs"),
        jobs={"password_reset": job},
    )  # fmt: skip
    await _queue(world, outbox.password_reset("a@example.com"))

    assert await processor.run_once() == 1  # fails: its e-mail is rolled back with it
    [retry] = await world.outbox()
    assert (retry.kind, retry.attempts) == ("password_reset", 1)
    world.clock.advance(2)
    assert await processor.run_once() == 1  # succeeds: the request is done, its e-mail queued
    assert [(m.kind, m.payload["to"]) for m in await world.outbox()] == [
        ("send_email", "to@example.com")
    ]
    assert await processor.run_once() == 1
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    assert await _pending(world) == 0


async def test_a_job_kind_without_a_job_is_given_up(world: World, tmp_path: Path) -> None:
    processor = _processor(world, tmp_path / "mail", tmp_path / "blobs")
    await _queue(world, outbox.password_reset("a@example.com"))
    assert await processor.run_once() == 1
    assert await _pending(world) == 0

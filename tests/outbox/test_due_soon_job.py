"""The due-soon reminder job (D15) on PostgreSQL, delivered by the worker into .eml files.

Each test has a database of its own: the job scans every task."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from email_receivers import Delivered, parse_mime
from outbox_kit import SENDER

from faros.adapters.email.outbox_dir import OutboxDirEmailSender
from faros.adapters.localfs.storage import LocalBlobStorage
from faros.adapters.memory.cache import MemoryCache
from faros.adapters.memory.clock import ManualClock
from faros.adapters.postgres.engine import create_engine
from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.domain.services.notifications import NotificationService
from faros.domain.services.outbox_processor import OutboxProcessor
from faros.domain.services.sharing import SharingService
from faros.domain.services.tasks import TaskService
from faros.domain.sharing import SharePermission
from faros.domain.tasks import TaskChanges, TaskView
from faros.domain.users import NewUser, User

pytestmark = pytest.mark.postgres

FRONTEND = "https://faros.example"
# 23:30 UTC: "within 24 hours" reaches into tomorrow, not the day after.
NOW = datetime(2031, 3, 10, 23, 30, tzinfo=UTC)
TODAY = NOW.date()
TOMORROW = TODAY + timedelta(days=1)
SUBJECT = "Task Due Soon: "


@dataclass
class Job:
    uow: PostgresUnitOfWorkFactory
    mail_dir: Path
    clock: ManualClock = field(default_factory=lambda: ManualClock(NOW))

    def __post_init__(self) -> None:
        cache = MemoryCache()
        self.tasks = TaskService(self.uow, self.clock, cache, FRONTEND)
        self.sharing = SharingService(self.uow, self.clock, cache, FRONTEND)
        self.notifications = NotificationService(self.uow, self.clock, FRONTEND)
        self.worker = OutboxProcessor(
            self.uow,
            self.clock,
            OutboxDirEmailSender(self.mail_dir, SENDER),
            LocalBlobStorage(self.mail_dir.parent / "blobs"),
        )
        self._seen: set[Path] = set()

    async def user(self, name: str, *, verified: bool = True, **flags: bool) -> User:
        async with self.uow() as uow:
            user = await uow.users.add(NewUser(name, f"{name}@example.com", "hash", NOW))
            preferences = await uow.preferences.get_or_create(user.id, NOW)
            preferences.email_verified = verified
            for flag, value in flags.items():
                setattr(preferences, flag, value)
            await uow.preferences.update(preferences)
            await uow.commit()
        return user

    async def task(self, owner: User, title: str, due: date, *, done: bool = False) -> TaskView:
        return await self.tasks.create(
            owner, title=title, description=None, priority="medium", due_date=due, tags=[],
            completed=done,
        )  # fmt: skip

    async def share(
        self, owner: User, task: TaskView, *guests: tuple[User, SharePermission]
    ) -> None:
        for guest, permission in guests:
            await self.sharing.share(owner, task.id, guest.username, permission)

    async def delivered(self) -> list[Delivered]:
        """Due-soon e-mails that reached the folder since the last call."""
        while await self.worker.run_once():
            pass
        new = sorted(set(self.mail_dir.glob("*.eml")) - self._seen)
        self._seen.update(new)
        found = [parse_mime(path.read_bytes()) for path in new]
        return [message for message in found if message.subject.startswith(SUBJECT)]


def who_got_what(messages: list[Delivered]) -> Counter[tuple[str, str]]:
    return Counter((message.to[0], message.subject) for message in messages)


@pytest.fixture
def job(own_uow: PostgresUnitOfWorkFactory, tmp_path: Path) -> Job:
    return Job(own_uow, tmp_path / "mail")


async def test_owner_and_edit_sharers_who_allow_it_get_one_reminder_per_task_and_due_date(
    job: Job,
) -> None:
    owner = await job.user("owner")
    editor = await job.user("editor")
    viewer = await job.user("viewer")
    unverified = await job.user("unverified", verified=False)
    switched_off = await job.user("switched_off", email_enabled=False)
    not_this_one = await job.user("not_this_one", task_due_soon=False)
    today = await job.task(owner, "Pay <rent> & bills", TODAY)
    tomorrow = await job.task(owner, "Tomorrow", TOMORROW)
    await job.task(owner, "Later", TOMORROW + timedelta(days=1))
    await job.task(owner, "Yesterday", TODAY - timedelta(days=1))
    await job.task(owner, "Done", TODAY, done=True)
    await job.share(
        owner, today, (editor, "edit"), (viewer, "view"), (unverified, "edit"),
        (switched_off, "edit"), (not_this_one, "edit"),
    )  # fmt: skip
    await job.share(owner, tomorrow, (editor, "edit"))

    assert await job.notifications.queue_due_soon_reminders() == 4
    got = await job.delivered()
    assert who_got_what(got) == Counter(
        {
            (owner.email, f"{SUBJECT}Pay <rent> & bills"): 1,
            (editor.email, f"{SUBJECT}Pay <rent> & bills"): 1,
            (owner.email, f"{SUBJECT}Tomorrow"): 1,
            (editor.email, f"{SUBJECT}Tomorrow"): 1,
        }
    )
    [rent] = [m for m in got if m.to == [owner.email] and "rent" in m.subject]
    assert f'The task "Pay <rent> & bills" is due on {TODAY.isoformat()}.' in rent.text
    assert f"{FRONTEND}/tasks" in rent.text
    assert "Pay &lt;rent&gt; &amp; bills" in rent.html
    assert "<rent>" not in rent.html
    assert f'href="{FRONTEND}/tasks"' in rent.html

    # Ten minutes later, the next run: nothing new.
    job.clock.advance(timedelta(minutes=10))
    assert await job.notifications.queue_due_soon_reminders() == 0
    assert await job.delivered() == []


async def test_moving_the_due_date_re_arms_and_completing_disarms(job: Job) -> None:
    owner = await job.user("owner")
    editor = await job.user("editor")
    moved = await job.task(owner, "Moved", TOMORROW)
    finished = await job.task(owner, "Finished", TOMORROW)
    await job.share(owner, moved, (editor, "edit"))
    assert await job.notifications.queue_due_soon_reminders() == 3
    assert len(await job.delivered()) == 3

    await job.tasks.update(owner, moved.id, TaskChanges({"due_date": TODAY}))
    await job.tasks.update(owner, finished.id, TaskChanges({"due_date": TODAY}))
    await job.tasks.update(owner, finished.id, TaskChanges({"completed": True}))
    assert await job.notifications.queue_due_soon_reminders() == 2
    assert who_got_what(await job.delivered()) == Counter(
        {(owner.email, f"{SUBJECT}Moved"): 1, (editor.email, f"{SUBJECT}Moved"): 1}
    )
    # Moved back to a date it was reminded for: the outbox drops the copy (its dedupe key),
    # though the job counts what it queued.
    await job.tasks.update(owner, moved.id, TaskChanges({"due_date": TOMORROW}))
    assert await job.notifications.queue_due_soon_reminders() == 2
    assert await job.delivered() == []


async def test_two_runs_at_once_send_each_reminder_once(
    job: Job, own_url: str, tmp_path: Path
) -> None:
    owners = [await job.user(f"owner{n}") for n in range(4)]
    editor = await job.user("editor")
    for n in range(20):
        task = await job.task(owners[n % 4], f"T{n}", TODAY if n % 2 else TOMORROW)
        await job.share(owners[n % 4], task, (editor, "edit"))
    assert await job.delivered() == []  # (share e-mails only)

    # Two servers' jobs, each on its own connections, started together.
    engines = [create_engine(own_url, pool_size=2) for _ in range(2)]
    try:
        services = [
            NotificationService(PostgresUnitOfWorkFactory(engine), job.clock, FRONTEND)
            for engine in engines
        ]
        counts = await asyncio.gather(*(s.queue_due_soon_reminders() for s in services))
    finally:
        for engine in engines:
            await engine.dispose()
    # Both found work (their transactions overlapped); the outbox kept one copy of each.
    assert min(counts) > 0, counts
    got = who_got_what(await job.delivered())
    expected = {(owners[n % 4].email, f"{SUBJECT}T{n}") for n in range(20)}
    expected |= {(editor.email, f"{SUBJECT}T{n}") for n in range(20)}
    assert got == Counter(dict.fromkeys(expected, 1))
    assert await job.notifications.queue_due_soon_reminders() == 0

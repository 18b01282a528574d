"""The use cases over the in-memory adapters: one store, a manual clock and a memory cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest

from faros.adapters.memory import MemoryUnitOfWorkFactory
from faros.adapters.memory.cache import MemoryCache
from faros.adapters.memory.clock import ManualClock
from faros.domain.activity import ActivityEntry, ActivityFilter
from faros.domain.outbox import OutboxMessage
from faros.domain.services.activity import ActivityService
from faros.domain.services.comments import CommentService
from faros.domain.services.notifications import NotificationService
from faros.domain.services.sharing import SharingService
from faros.domain.services.stats_cache import stats_key
from faros.domain.services.tasks import TaskService
from faros.domain.sharing import SharePermission
from faros.domain.tasks import Priority, TaskView
from faros.domain.users import NewUser, User

START = datetime(2030, 6, 15, 9, 30, tzinfo=UTC)
FRONTEND = "https://faros.example"


@dataclass
class World:
    """Every service wired to the same store, plus shortcuts to arrange and inspect it."""

    uow: MemoryUnitOfWorkFactory = field(default_factory=MemoryUnitOfWorkFactory)
    clock: ManualClock = field(default_factory=lambda: ManualClock(START))
    cache: MemoryCache = field(default_factory=MemoryCache)

    def __post_init__(self) -> None:
        self.tasks = TaskService(self.uow, self.clock, self.cache, FRONTEND)
        self.comments = CommentService(self.uow, self.clock, self.cache, FRONTEND)
        self.sharing = SharingService(self.uow, self.clock, self.cache, FRONTEND)
        self.activity = ActivityService(self.uow)
        self.notifications = NotificationService(self.uow, self.clock, FRONTEND)
        self._names = 0

    async def user(self, *, notify: bool = False, **flags: bool) -> User:
        """A new user; `notify` marks the address verified so that e-mails may go out."""
        self._names += 1
        name = f"user{self._names}"
        async with self.uow() as uow:
            user = await uow.users.add(NewUser(name, f"{name}@example.com", "hash", START))
            preferences = await uow.preferences.get_or_create(user.id, START)
            preferences.email_verified = notify
            for flag, value in flags.items():
                setattr(preferences, flag, value)
            await uow.preferences.update(preferences)
            await uow.commit()
        return user

    async def task(
        self,
        owner: User,
        title: str = "Task",
        *,
        priority: Priority = "medium",
        due_date: date | None = None,
        tags: list[str] | None = None,
        completed: bool = False,
    ) -> TaskView:
        return await self.tasks.create(
            owner,
            title=title,
            description=None,
            priority=priority,
            due_date=due_date,
            tags=tags or [],
            completed=completed,
        )

    async def shared_task(
        self, owner: User, guest: User, permission: SharePermission, title: str = "Task"
    ) -> TaskView:
        task = await self.task(owner, title)
        await self.sharing.share(owner, task.id, guest.username, permission)
        return task

    async def emails(self) -> list[tuple[str, str]]:
        """(recipient, subject) of every queued e-mail, oldest first."""
        return [
            (m.payload["to"], m.payload["subject"])
            for m in await self.outbox()
            if m.kind == "send_email"
        ]

    async def outbox(self) -> list[OutboxMessage]:
        async with self.uow() as uow:
            return await uow.outbox.claim(datetime(9999, 1, 1, tzinfo=UTC), 1000)

    async def timeline(self, task_id: int) -> list[ActivityEntry]:
        async with self.uow() as uow:
            return await uow.activity.timeline(task_id)

    async def feed(self, user: User) -> list[ActivityEntry]:
        async with self.uow() as uow:
            return await uow.activity.feed(user.id, ActivityFilter(limit=100))

    async def stored(self, task_id: int, viewer: User) -> TaskView:
        return await self.tasks.get(viewer, task_id)

    async def prime_stats(self, *users: User) -> None:
        """Put a stale entry in each user's stats cache, to see who invalidates it."""
        for user in users:
            await self.cache.set(stats_key(user.id), b"stale", 300)

    async def stats_cached(self, user: User) -> bool:
        return await self.cache.get(stats_key(user.id)) is not None


@pytest.fixture
def world() -> World:
    return World()

"""A unit of work over a `MemoryStore`: serialised transactions with rollback by journal.

Units of work on one store run one at a time (an asyncio lock), so each sees only committed
data plus its own writes, which is what the use cases observe of PostgreSQL too. They never
nest in our use cases; a nested one would wait for itself forever, so it fails loudly instead.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import TYPE_CHECKING, Self

from faros.adapters.memory.activity import MemoryActivityRepository
from faros.adapters.memory.api_tokens import MemoryApiTokenRepository
from faros.adapters.memory.collaboration import MemoryCommentRepository, MemoryShareRepository
from faros.adapters.memory.files import MemoryFileRepository
from faros.adapters.memory.idempotency import MemoryIdempotencyRepository
from faros.adapters.memory.outbox import MemoryOutboxRepository
from faros.adapters.memory.preferences import MemoryPreferencesRepository
from faros.adapters.memory.store import MemoryStore, Transaction
from faros.adapters.memory.tasks import MemoryTaskRepository
from faros.adapters.memory.users import MemoryRevokedTokenRepository, MemoryUserRepository
from faros.adapters.memory.webhooks import MemoryWebhookRepository
from faros.ports.activity_repository import ActivityRepository
from faros.ports.api_token_repository import ApiTokenRepository
from faros.ports.collaboration_repositories import CommentRepository, ShareRepository
from faros.ports.file_repository import FileRepository
from faros.ports.idempotency_repository import IdempotencyRepository
from faros.ports.outbox_repository import OutboxRepository
from faros.ports.preferences_repository import PreferencesRepository
from faros.ports.task_repository import TaskRepository
from faros.ports.unit_of_work import UnitOfWorkFactory
from faros.ports.user_repository import RevokedTokenRepository, UserRepository
from faros.ports.webhook_repository import WebhookRepository


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self._tx = Transaction(store)
        # Typed as the ports: the protocol's attributes are writable, hence invariant.
        self.users: UserRepository = MemoryUserRepository(self._tx)
        self.revoked_tokens: RevokedTokenRepository = MemoryRevokedTokenRepository(self._tx)
        self.tasks: TaskRepository = MemoryTaskRepository(self._tx)
        self.shares: ShareRepository = MemoryShareRepository(self._tx)
        self.comments: CommentRepository = MemoryCommentRepository(self._tx)
        self.files: FileRepository = MemoryFileRepository(self._tx)
        self.activity: ActivityRepository = MemoryActivityRepository(self._tx)
        self.preferences: PreferencesRepository = MemoryPreferencesRepository(self._tx)
        self.outbox: OutboxRepository = MemoryOutboxRepository(self._tx)
        self.api_tokens: ApiTokenRepository = MemoryApiTokenRepository(self._tx)
        self.webhooks: WebhookRepository = MemoryWebhookRepository(self._tx)
        self.idempotency: IdempotencyRepository = MemoryIdempotencyRepository(self._tx)

    async def __aenter__(self) -> Self:
        current = asyncio.current_task()
        if current is not None and self.store.holder is current:
            raise RuntimeError("units of work on one memory store cannot nest")
        await self.store.lock.acquire()
        self.store.holder = current
        self._tx.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._tx.end()
        finally:
            self.store.holder = None
            self.store.lock.release()

    async def commit(self) -> None:
        if not self._tx.active:
            raise RuntimeError("commit() outside the unit of work's block")
        self._tx.commit()


class MemoryUnitOfWorkFactory:
    """Makes units of work that share one store (a fresh, empty one unless given)."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store if store is not None else MemoryStore()

    def __call__(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store)


if TYPE_CHECKING:
    # mypy proves here that the adapter satisfies the port, not only at its call sites.
    _conforms: UnitOfWorkFactory = MemoryUnitOfWorkFactory()

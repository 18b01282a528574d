from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from faros.ports.activity_repository import ActivityRepository
from faros.ports.api_token_repository import ApiTokenRepository
from faros.ports.collaboration_repositories import CommentRepository, ShareRepository
from faros.ports.file_repository import FileRepository
from faros.ports.idempotency_repository import IdempotencyRepository
from faros.ports.outbox_repository import OutboxRepository
from faros.ports.preferences_repository import PreferencesRepository
from faros.ports.task_repository import TaskRepository
from faros.ports.user_repository import RevokedTokenRepository, UserRepository
from faros.ports.webhook_repository import WebhookRepository


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without `commit()` rolls everything back."""

    users: UserRepository
    revoked_tokens: RevokedTokenRepository
    tasks: TaskRepository
    shares: ShareRepository
    comments: CommentRepository
    files: FileRepository
    activity: ActivityRepository
    preferences: PreferencesRepository
    outbox: OutboxRepository
    api_tokens: ApiTokenRepository
    webhooks: WebhookRepository
    idempotency: IdempotencyRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...

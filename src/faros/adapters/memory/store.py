"""The in-memory database: plain dicts keyed by id, and a write journal per transaction.

Stored objects are never mutated in place: repositories store copies and replace whole values,
so the journal can keep the previous value by reference and restore it on rollback.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from faros.domain.activity import NewActivity
from faros.domain.api_tokens import ApiToken
from faros.domain.comments import Comment
from faros.domain.files import StoredFile
from faros.domain.idempotency import IdempotencyRecord
from faros.domain.ids import INT32_MAX
from faros.domain.notifications import NotificationPreferences
from faros.domain.outbox import OutboxKind
from faros.domain.sharing import NewShare
from faros.domain.tasks import Task
from faros.domain.users import User
from faros.domain.webhooks import Delivery, Webhook

K = TypeVar("K")
V = TypeVar("V")


def valid_id(value: int) -> bool:
    # As in PostgreSQL's `integer` ids: a larger id names no row, so lookups answer "not found".
    return 0 < value <= INT32_MAX


def json_copy(value: Any) -> Any:
    """What a JSONB column gives back: a deep copy with JSON's types (tuples become lists)."""
    return json.loads(json.dumps(value))


def utc(value: datetime) -> datetime:
    """A `timestamptz` reads back in UTC; naive values are taken as UTC, as the database does."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(slots=True, frozen=True)
class ShareRow:
    id: int
    share: NewShare


@dataclass(slots=True, frozen=True)
class ActivityRow:
    id: int
    entry: NewActivity


@dataclass(slots=True, frozen=True)
class OutboxRow:
    id: int
    kind: OutboxKind
    payload: dict[str, Any]
    dedupe_key: str | None
    status: str
    attempts: int
    available_at: datetime
    created_at: datetime
    processed_at: datetime | None = None
    last_error: str | None = None


@dataclass(slots=True)
class MemoryStore:
    """Every table of the schema, plus the few indexes that every request would otherwise scan."""

    users: dict[int, User] = field(default_factory=dict)
    user_by_username: dict[str, int] = field(default_factory=dict)
    user_by_email: dict[str, int] = field(default_factory=dict)  # keyed by lower-cased e-mail
    revoked_tokens: dict[str, datetime] = field(default_factory=dict)
    tasks: dict[int, Task] = field(default_factory=dict)
    reminded_for: dict[int, date] = field(default_factory=dict)  # task id -> reminded due date
    shares: dict[int, ShareRow] = field(default_factory=dict)
    share_by_pair: dict[tuple[int, int], int] = field(default_factory=dict)  # (task, user) -> id
    comments: dict[int, Comment] = field(default_factory=dict)
    files: dict[int, StoredFile] = field(default_factory=dict)
    activity: dict[int, ActivityRow] = field(default_factory=dict)
    preferences: dict[int, NotificationPreferences] = field(default_factory=dict)
    outbox: dict[int, OutboxRow] = field(default_factory=dict)
    outbox_by_key: dict[str, int] = field(default_factory=dict)
    api_tokens: dict[int, ApiToken] = field(default_factory=dict)
    api_token_by_hash: dict[str, int] = field(default_factory=dict)
    webhooks: dict[int, Webhook] = field(default_factory=dict)
    webhook_deliveries: dict[int, Delivery] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)
    idempotency: dict[tuple[int, str], IdempotencyRecord] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holder: asyncio.Task[Any] | None = None

    def next_id(self, table: str) -> int:
        # Like a database sequence, ids are never handed out twice, even after a rollback.
        value = self.sequences.get(table, 0) + 1
        self.sequences[table] = value
        return value


_MISSING: Any = object()


class Transaction:
    """The journal of one unit of work: the first previous value of every key it wrote."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.active = False
        self._journal: list[tuple[dict[Any, Any], Any, Any]] = []
        self._seen: set[tuple[int, Any]] = set()

    def begin(self) -> None:
        self.active = True
        self._forget()

    def _forget(self) -> None:
        self._journal.clear()
        self._seen.clear()

    def _remember(self, table: dict[K, V], key: K) -> None:
        if not self.active:
            raise RuntimeError("a repository was used outside its unit of work")
        marker = (id(table), key)
        if marker not in self._seen:
            self._seen.add(marker)
            self._journal.append((table, key, table.get(key, _MISSING)))

    def put(self, table: dict[K, V], key: K, value: V) -> None:
        self._remember(table, key)
        table[key] = value

    def remove(self, table: dict[K, V], key: K) -> None:
        if key in table:
            self._remember(table, key)
            del table[key]

    def commit(self) -> None:
        self._forget()

    def rollback(self) -> None:
        for table, key, previous in reversed(self._journal):
            if previous is _MISSING:
                table.pop(key, None)
            else:
                table[key] = previous
        self._forget()

    def end(self) -> None:
        self.rollback()
        self.active = False

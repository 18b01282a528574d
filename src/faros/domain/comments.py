"""Comments on tasks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

COMMENT_MAX_LENGTH = 1000


@dataclass(slots=True)
class Comment:
    id: int
    task_id: int
    user_id: int
    content: str
    created_at: datetime
    updated_at: datetime | None
    username: str | None


@dataclass(slots=True, frozen=True)
class NewComment:
    task_id: int
    user_id: int
    content: str
    created_at: datetime

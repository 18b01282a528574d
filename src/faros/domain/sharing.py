"""Task shares: a task owner grants another user view or edit access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

SharePermission = Literal["view", "edit"]


@dataclass(slots=True)
class Share:
    id: int
    task_id: int
    shared_with_user_id: int
    shared_with_username: str
    permission: SharePermission
    shared_at: datetime
    shared_by_user_id: int


@dataclass(slots=True, frozen=True)
class NewShare:
    task_id: int
    shared_with_user_id: int
    permission: SharePermission
    shared_at: datetime
    shared_by_user_id: int

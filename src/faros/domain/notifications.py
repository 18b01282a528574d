"""Notification preferences and the rule that decides whether an event e-mail goes out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

NotificationEvent = Literal[
    "task_shared_with_me", "task_completed", "comment_on_my_task", "task_due_soon"
]
PREFERENCE_FLAGS: tuple[str, ...] = (
    "email_enabled",
    "task_shared_with_me",
    "task_completed",
    "comment_on_my_task",
    "task_due_soon",
)


@dataclass(slots=True)
class NotificationPreferences:
    user_id: int
    email_verified: bool = False
    email_enabled: bool = True
    task_shared_with_me: bool = True
    task_completed: bool = False
    comment_on_my_task: bool = True
    task_due_soon: bool = True
    updated_at: datetime | None = None


def should_notify(preferences: NotificationPreferences, event: NotificationEvent) -> bool:
    """API.md §5: the *preferences* copy of `email_verified`, the master switch and the flag."""
    flag: bool = getattr(preferences, event)
    return preferences.email_verified and preferences.email_enabled and flag

"""The e-mail gate of API.md §5 and the outbox's retry schedule."""

from __future__ import annotations

import pytest

from faros.domain.notifications import (
    NotificationEvent,
    NotificationPreferences,
    should_notify,
)
from faros.domain.outbox import retry_delay_seconds


@pytest.mark.parametrize(
    "event", ["task_shared_with_me", "task_completed", "comment_on_my_task", "task_due_soon"]
)
def test_every_event_needs_a_verified_address_and_the_master_switch(
    event: NotificationEvent,
) -> None:
    allowed = NotificationPreferences(user_id=1, email_verified=True, task_completed=True)
    assert should_notify(allowed, event) is True
    unverified = NotificationPreferences(user_id=1, task_completed=True)
    assert should_notify(unverified, event) is False
    switched_off = NotificationPreferences(
        user_id=1, email_verified=True, email_enabled=False, task_completed=True
    )
    assert should_notify(switched_off, event) is False


def test_each_event_has_its_own_flag() -> None:
    preferences = NotificationPreferences(user_id=1, email_verified=True)
    assert should_notify(preferences, "task_completed") is False  # off by default
    preferences.comment_on_my_task = False
    assert should_notify(preferences, "comment_on_my_task") is False
    assert should_notify(preferences, "task_shared_with_me") is True


@pytest.mark.parametrize(
    ("attempts", "delay"), [(0, 2.0), (1, 2.0), (2, 4.0), (3, 8.0), (9, 512.0), (10, 600.0)]
)
def test_retry_delay_doubles_up_to_ten_minutes(attempts: int, delay: float) -> None:
    assert retry_delay_seconds(attempts) == delay

"""Notification preferences, event e-mails, e-mail verification and the due-soon reminder job."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from faros.domain import emails, outbox
from faros.domain.emails import EmailMessage
from faros.domain.errors import AuthenticationFailed
from faros.domain.notifications import (
    PREFERENCE_FLAGS,
    NotificationEvent,
    NotificationPreferences,
    should_notify,
)
from faros.domain.services.link_tokens import (
    EMAIL_VERIFICATION,
    new_link_token,
    redeem,
    token_hash,
)
from faros.domain.users import User
from faros.ports.clock import Clock
from faros.ports.task_repository import DueTask
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

VERIFICATION_LIFETIME = timedelta(hours=24)
REMINDER_HORIZON = timedelta(hours=24)


async def notify(
    uow: UnitOfWork,
    recipient_id: int,
    event: NotificationEvent,
    now: datetime,
    compose: Callable[[str], EmailMessage],
    dedupe_key: str | None = None,
) -> bool:
    """Queue an event e-mail in this transaction when the recipient's preferences allow it."""
    preferences = await uow.preferences.get_or_create(recipient_id, now)
    if not should_notify(preferences, event):
        return False
    recipient = await uow.users.get(recipient_id)
    if recipient is None:
        return False
    await uow.outbox.add(outbox.send_email(compose(recipient.email), dedupe_key), now)
    return True


class NotificationService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, frontend_url: str) -> None:
        self._uow = uow
        self._clock = clock
        self._frontend_url = frontend_url

    async def preferences(self, caller: User) -> NotificationPreferences:
        async with self._uow() as uow:
            preferences = await uow.preferences.get_or_create(caller.id, self._clock.now())
            await uow.commit()
        return preferences

    async def update_preferences(
        self, caller: User, values: dict[str, bool]
    ) -> NotificationPreferences:
        """Apply the named flags; anything else (e.g. `email_verified`) is never settable."""
        now = self._clock.now()
        async with self._uow() as uow:
            preferences = await uow.preferences.get_or_create(caller.id, now, for_update=True)
            changed = False
            for name in PREFERENCE_FLAGS:
                if name in values and getattr(preferences, name) != values[name]:
                    setattr(preferences, name, values[name])
                    changed = True
            if changed:
                preferences.updated_at = now
                await uow.preferences.update(preferences)
            await uow.commit()
        return preferences

    async def send_verification(self, caller: User) -> None:
        token = new_link_token()
        now = self._clock.now()
        async with self._uow() as uow:
            user = await uow.users.lock(caller.id)
            if user is None:
                raise AuthenticationFailed("User not found")
            user.verification_code_hash = token_hash(token)
            user.verification_expires = now + VERIFICATION_LIFETIME
            await uow.users.update(user)
            message = emails.verification(user.email, user.username, token, self._frontend_url)
            await uow.outbox.add(outbox.send_email(message), now)
            await uow.commit()

    async def verify_email(self, token: str) -> str:
        """Mark the token holder's address verified (single use); returns the username."""
        now = self._clock.now()
        async with self._uow() as uow:
            finder = uow.users.by_verification_code
            user = await redeem(uow, EMAIL_VERIFICATION, finder, token, now)
            user.email_verified = True
            await uow.users.update(user)
            preferences = await uow.preferences.get_or_create(user.id, now, for_update=True)
            if not preferences.email_verified:
                preferences.email_verified = True
                preferences.updated_at = now
                await uow.preferences.update(preferences)
            await uow.commit()
        return user.username

    async def queue_due_soon_reminders(self, now: datetime | None = None) -> int:
        """E-mail owners and edit-sharers of incomplete tasks due within 24 hours (D15).

        Each task is reminded once per due date: moving the due date re-arms the reminder.
        Returns how many e-mails were queued (two runs racing may both count one that the
        outbox keeps once: its dedupe key drops the second copy).

        Each task is handled in a short transaction of its own that first locks the task row,
        as requests that change a task do: no lock is held across the whole job, and a request
        and the job never wait for each other in opposite orders.
        """
        now = now or self._clock.now()
        start, end = now.date(), (now + REMINDER_HORIZON).date()
        async with self._uow() as uow:
            due_tasks = await uow.tasks.due_for_reminder(start, end)
        queued = 0
        for due in due_tasks:
            queued += await self._remind(due, now)
        return queued

    async def _remind(self, due: DueTask, now: datetime) -> int:
        queued = 0
        async with self._uow() as uow:
            found = await uow.tasks.get_with_share(due.task.id, due.task.user_id, for_update=True)
            task = found.task if found is not None else None
            # Completed, deleted or moved since the list was read: not due (or not this date).
            if (
                task is None
                or task.completed
                or task.due_date is None
                or task.due_date != due.task.due_date
            ):
                return 0
            due_text = task.due_date.isoformat()
            for recipient_id in due.recipient_ids:

                def compose(to: str, title: str = task.title) -> emails.EmailMessage:
                    return emails.task_due_soon(to, title, due_text, self._frontend_url)

                key = f"due_soon:{task.id}:{due_text}:{recipient_id}"
                if await notify(uow, recipient_id, "task_due_soon", now, compose, key):
                    queued += 1
            await uow.tasks.mark_reminded(task.id, task.due_date)
            await uow.commit()
        return queued

"""PreferencesRepository."""

from __future__ import annotations

from dataclasses import replace

from faros.domain.notifications import NotificationPreferences
from faros.ports.unit_of_work import UnitOfWorkFactory

from .builders import NOW, add_user


async def test_get_or_create_makes_the_default_row_once(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        user = await add_user(uow)
        created = await uow.preferences.get_or_create(user.id, NOW)
        assert created == NotificationPreferences(
            user_id=user.id,
            email_verified=False,
            email_enabled=True,
            task_shared_with_me=True,
            task_completed=False,
            comment_on_my_task=True,
            task_due_soon=True,
            updated_at=None,
        )
        changed = replace(created, task_completed=True)
        await uow.preferences.update(changed)
        # A second call finds the row; it does not reset it to the defaults.
        assert await uow.preferences.get_or_create(user.id, NOW) == changed


async def test_update_writes_every_flag_and_the_edit_time(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        user, other = await add_user(uow), await add_user(uow)
        await uow.preferences.get_or_create(user.id, NOW)
        untouched = await uow.preferences.get_or_create(other.id, NOW)
        flipped = NotificationPreferences(
            user_id=user.id,
            email_verified=True,
            email_enabled=False,
            task_shared_with_me=False,
            task_completed=True,
            comment_on_my_task=False,
            task_due_soon=False,
            updated_at=NOW,
        )
        await uow.preferences.update(flipped)
        assert await uow.preferences.get_or_create(user.id, NOW) == flipped
        assert await uow.preferences.get_or_create(other.id, NOW) == untouched


async def test_returned_preferences_are_copies(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        user = await add_user(uow)
        first = await uow.preferences.get_or_create(user.id, NOW)
        first.email_enabled = False
        again = await uow.preferences.get_or_create(user.id, NOW)
        assert again.email_enabled is True

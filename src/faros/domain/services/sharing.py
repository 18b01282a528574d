"""Sharing a task with other users, and changing or revoking their access."""

from __future__ import annotations

from faros.domain import activity, emails
from faros.domain.errors import Conflict, Invalid, NotFound
from faros.domain.permissions import AccessLevel
from faros.domain.services.idempotency import IdempotentCall, claim_key, keep_answer
from faros.domain.services.notifications import notify
from faros.domain.services.stats_cache import invalidate_stats
from faros.domain.services.task_access import TaskScopedService, load_task
from faros.domain.sharing import NewShare, Share, SharePermission
from faros.domain.users import User

ALREADY_SHARED = "Task already shared with this user"


class SharingService(TaskScopedService):
    async def shares(self, caller: User, task_id: int) -> list[Share]:
        async with self._uow() as uow:
            await load_task(uow, task_id, caller.id, AccessLevel.OWNER)
            return await uow.shares.for_task(task_id)

    async def share(
        self,
        caller: User,
        task_id: int,
        username: str,
        permission: SharePermission,
        idempotency: IdempotentCall[Share] | None = None,
    ) -> Share:
        now = self._clock.now()
        async with self._uow() as uow:
            await claim_key(uow, caller.id, idempotency, now)
            # Every change to a task's shares locks the task first: changes to one task's
            # shares run one after the other (a second share of the same user sees the first:
            # 409), and a concurrent delete of the task cannot pull the row away from under
            # the insert (a foreign-key error, 500) — it finishes first (404) or waits.
            task, _ = await load_task(uow, task_id, caller.id, AccessLevel.OWNER, for_update=True)
            target = await uow.users.by_username(username)
            if target is None:
                raise NotFound(f"User '{username}' not found")
            if target.id == caller.id:
                raise Invalid("Cannot share task with yourself")
            if await uow.shares.get(task_id, target.id) is not None:
                raise Conflict(ALREADY_SHARED)
            share = await uow.shares.add(NewShare(task_id, target.id, permission, now, caller.id))
            await uow.tasks.touch(task_id)  # the task's view shows its share count
            await uow.activity.add(
                activity.task_shared(caller.id, task, target.id, target.username, permission, now)
            )
            if self._webhooks is not None:
                await self._webhooks.share(uow, "share.created", task, share, now)

            def compose(to: str) -> emails.EmailMessage:
                return emails.task_shared(
                    to, caller.username, task.title, permission, self._frontend_url
                )

            await notify(uow, target.id, "task_shared_with_me", now, compose)
            await keep_answer(uow, caller.id, idempotency, share, now)
            await uow.commit()
        await invalidate_stats(self._cache, [caller.id])
        return share

    async def change_permission(
        self, caller: User, task_id: int, username: str, permission: SharePermission
    ) -> Share:
        async with self._uow() as uow:
            await load_task(uow, task_id, caller.id, AccessLevel.OWNER, for_update=True)
            target = await uow.users.by_username(username)
            if target is None:
                raise NotFound(f"User '{username}' not found")
            share = await uow.shares.get(task_id, target.id)
            if share is None:
                raise NotFound(f"Task is not shared with '{username}'")
            await uow.shares.set_permission(share.id, permission)
            await uow.commit()
        share.permission = permission
        return share

    async def unshare(self, caller: User, task_id: int, username: str) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            task, _ = await load_task(uow, task_id, caller.id, AccessLevel.OWNER, for_update=True)
            target = await uow.users.by_username(username)
            share = None if target is None else await uow.shares.get(task_id, target.id)
            if target is None or share is None:
                raise NotFound(f"Task is not shared with user '{username}'")
            await uow.activity.add(
                activity.task_unshared(caller.id, task, target.id, target.username, now)
            )
            if self._webhooks is not None:  # before the delete: the removed user hears of it
                await self._webhooks.share(uow, "share.removed", task, share, now)
            await uow.shares.delete(share.id)
            await uow.tasks.touch(task_id)
            await uow.commit()
        await invalidate_stats(self._cache, [caller.id])

"""Comment threads on tasks."""

from __future__ import annotations

from faros.domain import activity, emails
from faros.domain.comments import Comment, NewComment
from faros.domain.errors import Forbidden, NotFound, TaskNotFound
from faros.domain.permissions import AccessLevel, may_delete_comment, may_edit_comment
from faros.domain.services.idempotency import IdempotentCall, claim_key, keep_answer
from faros.domain.services.notifications import notify
from faros.domain.services.stats_cache import invalidate_stats
from faros.domain.services.task_access import TaskScopedService, load_task, load_task_with_view
from faros.domain.tasks import Task
from faros.domain.text import require_clean_text
from faros.domain.users import User
from faros.ports.unit_of_work import UnitOfWork

COMMENT_NOT_FOUND = "Comment not found"
CONTENT_AT = ("body", "content")


def _not_authorized(caller: User, comment_id: int) -> Forbidden:
    return Forbidden(f"User {caller.id} is not authorized to access comment_id={comment_id}")


class CommentService(TaskScopedService):
    async def add(
        self,
        caller: User,
        task_id: int,
        content: str,
        idempotency: IdempotentCall[Comment] | None = None,
    ) -> Comment:
        require_clean_text(CONTENT_AT, content, multiline=True)
        now = self._clock.now()
        async with self._uow() as uow:
            await claim_key(uow, caller.id, idempotency, now)
            # Locked: a delete of the task running meanwhile either finishes first (404 here)
            # or waits for this comment; unlocked, the insert could meet a task deleted under
            # it and fail on the foreign key (a 500).
            task, _ = await load_task(uow, task_id, caller.id, AccessLevel.VIEW, for_update=True)
            comment = await uow.comments.add(NewComment(task_id, caller.id, content, now))
            await uow.tasks.touch(task_id)  # the task's view shows its comments
            comment.username = caller.username
            await uow.activity.add(activity.comment_created(caller.id, task, comment, now))
            if self._webhooks is not None:
                await self._webhooks.comment_created(uow, task, comment, now)
            if caller.id != task.user_id:

                def compose(to: str) -> emails.EmailMessage:
                    return emails.comment_added(
                        to, caller.username, task.title, content, self._frontend_url
                    )

                await notify(uow, task.user_id, "comment_on_my_task", now, compose)
            await keep_answer(uow, caller.id, idempotency, comment, now)
            await uow.commit()
        await invalidate_stats(self._cache, [caller.id])
        return comment

    async def for_task(self, caller: User, task_id: int) -> list[Comment]:
        async with self._uow() as uow:
            found = await load_task_with_view(uow, task_id, caller.id, AccessLevel.VIEW)
            return found.comments

    async def _load_locked(
        self, uow: UnitOfWork, caller: User, comment_id: int
    ) -> tuple[Comment, Task, AccessLevel]:
        """The comment and its task, the task row locked until the unit of work ends.

        The lock serialises edits and deletes of the task's comments with each other and with
        a delete of the task; the comment is read again under it, so a comment deleted (or
        taken away with its task) meanwhile answers 404 instead of a 200 for nothing.
        """
        found = await uow.comments.get(comment_id)
        if found is None:
            raise NotFound(COMMENT_NOT_FOUND)
        try:
            task, level = await load_task(
                uow, found.task_id, caller.id, AccessLevel.VIEW, for_update=True
            )
        except TaskNotFound:
            raise NotFound(COMMENT_NOT_FOUND) from None  # its task, and so it, is gone
        comment = await uow.comments.get(comment_id)
        if comment is None:
            raise NotFound(COMMENT_NOT_FOUND)
        return comment, task, level

    async def edit(self, caller: User, comment_id: int, content: str) -> Comment:
        require_clean_text(CONTENT_AT, content, multiline=True)
        now = self._clock.now()
        async with self._uow() as uow:
            comment, task, _ = await self._load_locked(uow, caller, comment_id)
            if not may_edit_comment(caller.id, comment.user_id):
                raise _not_authorized(caller, comment_id)
            old_content = comment.content
            comment.content = content
            comment.updated_at = now
            await uow.comments.update(comment)
            await uow.tasks.touch(task.id)
            await uow.activity.add(
                activity.comment_updated(caller.id, task, comment, old_content, now)
            )
            await uow.commit()
        return comment

    async def delete(self, caller: User, comment_id: int) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            comment, task, level = await self._load_locked(uow, caller, comment_id)
            if not may_delete_comment(caller.id, comment.user_id, level):
                raise _not_authorized(caller, comment_id)
            await uow.activity.add(activity.comment_deleted(caller.id, task, comment, now))
            await uow.comments.delete(comment_id)
            await uow.tasks.touch(task.id)
            await uow.commit()
        await invalidate_stats(self._cache, [caller.id, comment.user_id])

"""Task use cases: create, list, read, update (single and bulk), tags, delete, statistics."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date

from faros.domain import activity, emails, outbox
from faros.domain.errors import Invalid, NotFound, TagNotFound
from faros.domain.permissions import AccessLevel, access_level, require
from faros.domain.services.idempotency import IdempotentCall, claim_key, keep_answer
from faros.domain.services.notifications import notify
from faros.domain.services.stats_cache import STATS_TTL_SECONDS, invalidate_stats, stats_key
from faros.domain.services.task_access import TaskScopedService, load_task_with_view
from faros.domain.tasks import (
    NewTask,
    Priority,
    Task,
    TaskChanges,
    TaskPage,
    TaskQuery,
    TaskStats,
    TaskView,
    VersionPrecondition,
    apply_changes,
    check_tag_count,
    check_tag_texts,
    check_text_fields,
    merge_tags,
    paginate,
    require_version,
    task_view,
)
from faros.domain.users import User
from faros.ports.task_repository import SharedTaskView, TaskWithView
from faros.ports.unit_of_work import UnitOfWork

NO_FIELDS = "No fields provided for update"
Loc = tuple[str | int, ...]
# Where the wire carries what each use case receives (a 422 names the field there).
BODY: Loc = ("body",)
UPDATES: Loc = ("body", "updates")


def _check_version(found: TaskWithView, expected: VersionPrecondition | None) -> None:
    """The caller's If-Match, if any, against the task as locked (404 and 403 come first)."""
    if expected is not None:
        require_version(expected, found.view_of(found.task))


class TaskService(TaskScopedService):
    async def create(
        self,
        caller: User,
        *,
        title: str,
        description: str | None,
        priority: Priority,
        due_date: date | None,
        tags: list[str],
        completed: bool,
        idempotency: IdempotentCall[TaskView] | None = None,
    ) -> TaskView:
        check_text_fields({"title": title, "description": description, "tags": tags}, BODY)
        check_tag_count([], tags, ("body", "tags"), tags)
        now = self._clock.now()
        draft = NewTask(title, description, completed, priority, due_date, tags, caller.id, now)
        async with self._uow() as uow:
            await claim_key(uow, caller.id, idempotency, now)
            task = await uow.tasks.add(draft)
            await uow.activity.add(activity.task_created(caller.id, task, now))
            view = task_view(task, [], 0)
            if self._webhooks is not None:
                await self._webhooks.task(uow, "task.created", view, now)
            await keep_answer(uow, caller.id, idempotency, view, now)
            await uow.commit()
        await invalidate_stats(self._cache, [caller.id])
        return view

    async def page(self, caller: User, query: TaskQuery) -> TaskPage:
        async with self._uow() as uow:
            tasks, total = await uow.tasks.list_page(caller.id, query, self._clock.today())
        return paginate(tasks, total, query.skip, query.limit)

    async def get(self, caller: User, task_id: int) -> TaskView:
        async with self._uow() as uow:
            found = await load_task_with_view(uow, task_id, caller.id, AccessLevel.VIEW)
            return found.view_of(found.task)

    async def shared_with_me(self, caller: User) -> list[SharedTaskView]:
        async with self._uow() as uow:
            return await uow.tasks.shared_with(caller.id)

    async def update(
        self,
        caller: User,
        task_id: int,
        changes: TaskChanges,
        expected: VersionPrecondition | None = None,
    ) -> TaskView:
        check_text_fields(changes.values, BODY)
        async with self._uow() as uow:
            found = await load_task_with_view(
                uow, task_id, caller.id, AccessLevel.EDIT, for_update=True
            )
            task = found.task
            if changes.is_empty():
                raise Invalid(NO_FIELDS)  # the document's rule on the body: before If-Match
            _check_version(found, expected)
            updated = await self._apply(uow, caller, task, changes, (*BODY, "tags"))
            view = found.view_of(updated)
            await uow.commit()
        await invalidate_stats(self._cache, [caller.id, task.user_id])
        return view

    async def bulk_update(
        self,
        caller: User,
        task_ids: list[int],
        changes: TaskChanges,
        idempotency: IdempotentCall[list[TaskView]] | None = None,
    ) -> list[TaskView]:
        if changes.is_empty():
            raise Invalid(NO_FIELDS)
        check_text_fields(changes.values, UPDATES)
        wanted = sorted(set(task_ids))
        async with self._uow() as uow:
            await claim_key(uow, caller.id, idempotency, self._clock.now())
            found = await uow.tasks.get_many_with_shares(wanted, caller.id, for_update=True)
            present = {item.task.id for item in found}
            missing = [task_id for task_id in dict.fromkeys(task_ids) if task_id not in present]
            if missing:
                raise NotFound(f"Tasks not found: {missing}")
            # All-or-nothing: every permission is checked before anything changes.
            for item in found:
                require(access_level(item.task.user_id, caller.id, item.share), AccessLevel.EDIT)
            updated = [
                await self._apply(uow, caller, item.task, changes, (*UPDATES, "tags"))
                for item in found
            ]
            views = await uow.tasks.views(updated)
            await keep_answer(uow, caller.id, idempotency, views, self._clock.now())
            await uow.commit()
        await invalidate_stats(self._cache, [caller.id, *(item.task.user_id for item in found)])
        return views

    async def _apply(
        self, uow: UnitOfWork, caller: User, task: Task, changes: TaskChanges, tags_at: Loc
    ) -> Task:
        """Update one task with its activity entry and completion e-mail, in `uow`.

        `task` is locked: the tag cap is checked against the tags it holds now, so concurrent
        additions cannot pass it together. `tags_at` locates the sent tags for the 422.
        """
        now = self._clock.now()
        if "tags" in changes.values:
            sent = changes.values["tags"]
            check_tag_count(task.tags, sent, tags_at, sent)
        applied = apply_changes(task, changes)
        if not applied.changed_fields:
            return task
        await uow.tasks.update(applied.task, activity.task_updated(caller.id, applied, now))
        if self._webhooks is not None:
            await self._webhooks.task_changed(uow, task, applied.task, now)
        completes = not task.completed and changes.values.get("completed") is True
        if completes and caller.id != task.user_id:
            title = applied.task.title

            def compose(to: str) -> emails.EmailMessage:
                return emails.task_completed(to, caller.username, title, self._frontend_url)

            await notify(uow, task.user_id, "task_completed", now, compose)
        return applied.task

    async def add_tags(
        self,
        caller: User,
        task_id: int,
        tags: list[str],
        expected: VersionPrecondition | None = None,
    ) -> TaskView:
        check_tag_texts(tags, BODY)
        async with self._uow() as uow:
            found = await load_task_with_view(
                uow, task_id, caller.id, AccessLevel.EDIT, for_update=True
            )
            _check_version(found, expected)
            task = found.task
            merged = merge_tags(task.tags, tags)
            # The body is the bare list of tags, so the 422 names the body itself.
            check_tag_count(task.tags, merged, BODY, tags)
            updated = await self._apply(uow, caller, task, TaskChanges({"tags": merged}), BODY)
            view = found.view_of(updated)
            await uow.commit()
        await invalidate_stats(self._cache, [caller.id, task.user_id])
        return view

    async def remove_tag(
        self,
        caller: User,
        task_id: int,
        tag: str,
        expected: VersionPrecondition | None = None,
    ) -> TaskView:
        async with self._uow() as uow:
            found = await load_task_with_view(
                uow, task_id, caller.id, AccessLevel.EDIT, for_update=True
            )
            _check_version(found, expected)
            task = found.task
            if tag not in task.tags:
                raise TagNotFound(task_id, tag)
            remaining = list(task.tags)
            remaining.remove(tag)
            changes = TaskChanges({"tags": remaining})
            updated = await self._apply(uow, caller, task, changes, ("path", "tag"))
            view = found.view_of(updated)
            await uow.commit()
        await invalidate_stats(self._cache, [caller.id, task.user_id])
        return view

    async def delete(
        self, caller: User, task_id: int, expected: VersionPrecondition | None = None
    ) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            found = await load_task_with_view(
                uow, task_id, caller.id, AccessLevel.OWNER, for_update=True
            )
            _check_version(found, expected)
            task = found.task
            files = await uow.files.for_task(task_id)
            comment_authors = {c.user_id for c in found.comments}
            await uow.activity.add(activity.task_deleted(caller.id, task, now))
            if self._webhooks is not None:  # before the shares go with the task
                await self._webhooks.task(uow, "task.deleted", found.view_of(task), now)
            for stored in files:
                await uow.outbox.add(outbox.delete_blob(stored.stored_filename), now)
            await uow.tasks.delete(task_id)
            await uow.commit()
        await invalidate_stats(self._cache, [caller.id, *comment_authors])

    async def stats(self, caller: User) -> TaskStats:
        key = stats_key(caller.id)
        cached = await self._cache.get(key)
        if cached is not None:
            return TaskStats(**json.loads(cached))
        async with self._uow() as uow:
            stats = await uow.tasks.stats(caller.id, self._clock.today())
        await self._cache.set(key, json.dumps(asdict(stats)).encode(), STATS_TTL_SECONDS)
        return stats

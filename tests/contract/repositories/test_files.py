"""FileRepository."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from faros.domain.files import NewStoredFile, StoredFile
from faros.ports.unit_of_work import UnitOfWorkFactory

from .builders import NOW, add_task, add_user, unique

OUT_OF_RANGE_IDS = [0, -1, 2**31, 2**63]


async def test_add_get_list_and_delete_file_rows(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task, other = await add_task(uow, owner), await add_task(uow, owner)
        key = unique("task_")
        first = await uow.files.add(
            NewStoredFile(task.id, "Report (final).PDF", key, 1234, "application/pdf", NOW)
        )
        assert first == StoredFile(
            id=first.id,
            task_id=task.id,
            original_filename="Report (final).PDF",
            stored_filename=key,
            file_size=1234,
            content_type="application/pdf",
            uploaded_at=NOW,
        )
        second = await uow.files.add(
            NewStoredFile(task.id, "notes", unique("task_"), 0, None, NOW - timedelta(days=1))
        )
        await uow.files.add(NewStoredFile(other.id, "x.txt", unique("task_"), 1, None, NOW))

        assert await uow.files.get(first.id) == first
        assert await uow.files.get(second.id) == second
        assert second.content_type is None
        assert await uow.files.for_task(task.id) == [first, second]

        await uow.files.delete(first.id)
        assert await uow.files.get(first.id) is None
        assert await uow.files.for_task(task.id) == [second]
        for file_id in OUT_OF_RANGE_IDS:
            assert await uow.files.get(file_id) is None


async def test_returned_file_rows_are_copies(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner = await add_user(uow)
        task = await add_task(uow, owner)
        stored = await uow.files.add(NewStoredFile(task.id, "a.txt", unique("k"), 1, None, NOW))
        stored.original_filename = "changed"
        assert await uow.files.get(stored.id) == replace(stored, original_filename="a.txt")

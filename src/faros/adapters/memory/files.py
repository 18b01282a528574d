"""Rows describing task attachments (the bytes live in blob storage)."""

from __future__ import annotations

from dataclasses import replace

from faros.adapters.memory.store import Transaction, utc, valid_id
from faros.domain.files import NewStoredFile, StoredFile


class MemoryFileRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._db = tx.store

    async def add(self, stored: NewStoredFile) -> StoredFile:
        row = StoredFile(
            id=self._db.next_id("task_files"),
            task_id=stored.task_id,
            original_filename=stored.original_filename,
            stored_filename=stored.stored_filename,
            file_size=stored.file_size,
            content_type=stored.content_type,
            uploaded_at=utc(stored.uploaded_at),
        )
        self._tx.put(self._db.files, row.id, row)
        return replace(row)

    async def get(self, file_id: int) -> StoredFile | None:
        row = self._db.files.get(file_id) if valid_id(file_id) else None
        return None if row is None else replace(row)

    async def for_task(self, task_id: int) -> list[StoredFile]:
        rows = sorted(
            (row for row in self._db.files.values() if row.task_id == task_id),
            key=lambda row: row.id,
        )
        return [replace(row) for row in rows]

    async def delete(self, file_id: int) -> None:
        self._tx.remove(self._db.files, file_id)

"""Task attachment rows in PostgreSQL (the bytes live in blob storage)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, delete, select

from faros.adapters.postgres.database import Database
from faros.adapters.postgres.query import Query
from faros.adapters.postgres.tables import task_files
from faros.adapters.postgres.values import utc
from faros.domain.files import NewStoredFile, StoredFile
from faros.domain.ids import is_int32

_f = task_files.c
_COLUMNS = (
    _f.id,
    _f.task_id,
    _f.original_filename,
    _f.stored_filename,
    _f.file_size,
    _f.content_type,
    _f.uploaded_at,
)
_INSERT = Query(
    task_files.insert()
    .values({column.name: bindparam(column.name) for column in _COLUMNS[1:]})
    .returning(*_COLUMNS),
    transactional=True,
)
_BY_ID = Query(select(*_COLUMNS).where(_f.id == bindparam("file_id")))
_OF_TASK = Query(select(*_COLUMNS).where(_f.task_id == bindparam("task_id")).order_by(_f.id))
_DELETE = Query(delete(task_files).where(_f.id == bindparam("file_id")), transactional=True)


def _from_row(row: Row[Any]) -> StoredFile:
    return StoredFile(
        id=row.id,
        task_id=row.task_id,
        original_filename=row.original_filename,
        stored_filename=row.stored_filename,
        file_size=row.file_size,
        content_type=row.content_type,
        uploaded_at=utc(row.uploaded_at),
    )


class PostgresFileRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, stored: NewStoredFile) -> StoredFile:
        values = {
            "task_id": stored.task_id,
            "original_filename": stored.original_filename,
            "stored_filename": stored.stored_filename,
            "file_size": stored.file_size,
            "content_type": stored.content_type,
            "uploaded_at": stored.uploaded_at,
        }
        return _from_row((await self._db.execute(_INSERT, values))[0])

    async def get(self, file_id: int) -> StoredFile | None:
        if not is_int32(file_id):
            return None
        rows = await self._db.execute(_BY_ID, {"file_id": file_id})
        return _from_row(rows[0]) if rows else None

    async def for_task(self, task_id: int) -> list[StoredFile]:
        if not is_int32(task_id):
            return []
        return [_from_row(row) for row in await self._db.execute(_OF_TASK, {"task_id": task_id})]

    async def delete(self, file_id: int) -> None:
        if is_int32(file_id):
            await self._db.execute(_DELETE, {"file_id": file_id})

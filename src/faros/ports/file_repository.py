from __future__ import annotations

from typing import Protocol

from faros.domain.files import NewStoredFile, StoredFile


class FileRepository(Protocol):
    async def add(self, stored: NewStoredFile) -> StoredFile: ...

    async def get(self, file_id: int) -> StoredFile | None: ...

    async def for_task(self, task_id: int) -> list[StoredFile]:
        """In id order."""
        ...

    async def delete(self, file_id: int) -> None: ...

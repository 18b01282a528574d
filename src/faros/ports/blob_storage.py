from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class BlobNotFound(Exception):
    """The named object does not exist in storage."""


class BlobStorageError(Exception):
    """Storage could not be reached or refused the operation."""


class BlobStorage(Protocol):
    async def put(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> int:
        """Store the stream under `key` and return its size in bytes."""
        ...

    async def get(self, key: str) -> AsyncIterator[bytes]:
        """Open the object for streaming; raise BlobNotFound before yielding when missing."""
        ...

    async def size(self, key: str) -> int:
        """Size in bytes; BlobNotFound when missing."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error."""
        ...

    async def exists(self, key: str) -> bool: ...

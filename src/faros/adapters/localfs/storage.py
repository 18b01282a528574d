"""`BlobStorage` on a local directory: one file per key, written atomically."""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from faros.domain.files import validate_storage_key
from faros.ports.blob_storage import BlobNotFound, BlobStorageError

CHUNK_SIZE = 64 * 1024
# Small chunks from the HTTP layer are gathered up to this size so that a 10 MiB upload costs
# tens of thread hand-offs rather than thousands; the bound keeps memory flat per upload.
WRITE_BUFFER_SIZE = 1024 * 1024
_TEMP_PREFIX = ".faros-upload-"

_T = TypeVar("_T")


async def _io(function: Callable[..., _T], *args: object) -> _T:
    """Run blocking file I/O off the event loop; OS failures become `BlobStorageError`."""
    try:
        return await asyncio.to_thread(function, *args)
    except OSError as error:
        raise BlobStorageError(f"Local storage failed: {error}") from error


class _AtomicFile:
    """A temporary file beside its destination that only becomes it on `commit`.

    Being in the same directory makes `os.replace` an atomic rename, so readers see either the
    old object or the complete new one, never a partial write. Methods block: call them in a
    thread.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=_TEMP_PREFIX, suffix=".part")
        self._file = os.fdopen(fd, "wb")
        self._temp = Path(name)
        self._path = path

    def write(self, data: bytes | bytearray) -> None:
        self._file.write(data)

    def commit(self) -> None:
        self._file.flush()
        # Without fsync a crash soon after the rename can leave an empty file under the key.
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._temp, self._path)

    def discard(self) -> None:
        # Unlink first: it is safe even while a cancelled write still runs in its thread, and
        # the buffered file's lock makes `close` wait for that write rather than race it.
        with contextlib.suppress(OSError):
            self._temp.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self._file.close()


class _FileChunks(AsyncIterator[bytes]):
    """Chunks of an already opened file, read in a thread; `aclose` releases it early."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file

    async def __anext__(self) -> bytes:
        if self._file.closed:
            raise StopAsyncIteration
        chunk = await _io(self._file.read, CHUNK_SIZE)
        if not chunk:
            self._file.close()
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        self._file.close()


class LocalBlobStorage:
    def __init__(self, root: Path) -> None:
        self._root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self._root / validate_storage_key(key)).resolve()
        # Catches what string checks cannot: a symlink inside the root pointing out of it.
        if not path.is_relative_to(self._root) or path == self._root:
            raise ValueError(f"Invalid storage key: {key!r}")
        return path

    async def put(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> int:
        # The content type is not kept: the database row holds it, as the contract requires.
        path = self._path(key)
        target = await _io(_AtomicFile, path)
        size = 0
        pending = bytearray()
        try:
            # Errors raised by `chunks` itself (an oversized or lying upload) must reach the
            # caller unchanged, so only the file operations go through `_io`.
            async for chunk in chunks:
                size += len(chunk)
                pending += chunk
                if len(pending) >= WRITE_BUFFER_SIZE:
                    await _io(target.write, pending)
                    pending.clear()
            if pending:
                await _io(target.write, pending)
            await _io(target.commit)
        except BaseException:
            # Synchronous on purpose: it must also run when the task is being cancelled.
            target.discard()
            raise
        return size

    async def get(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            file = await asyncio.to_thread(path.open, "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as error:
            raise BlobNotFound(key) from error
        except OSError as error:
            raise BlobStorageError(f"Local storage failed: {error}") from error
        return _FileChunks(file)

    async def size(self, key: str) -> int:
        path = self._path(key)
        try:
            info = await asyncio.to_thread(path.stat)
        except (FileNotFoundError, NotADirectoryError) as error:
            raise BlobNotFound(key) from error
        except OSError as error:
            raise BlobStorageError(f"Local storage failed: {error}") from error
        if not stat.S_ISREG(info.st_mode):
            raise BlobNotFound(key)
        return info.st_size

    async def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        except (NotADirectoryError, IsADirectoryError):
            return  # a directory or a path through a file: there is no object by that key
        except OSError as error:
            raise BlobStorageError(f"Local storage failed: {error}") from error

    async def exists(self, key: str) -> bool:
        try:
            await self.size(key)
        except BlobNotFound:
            return False
        return True

    async def close(self) -> None:
        """Nothing to release; present so the composition root can close any storage alike."""

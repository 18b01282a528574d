"""Reading an upload stream once: a hard size cap and a look at its first bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator

from faros.domain.errors import Invalid
from faros.domain.files import SNIFF_BYTES, content_matches


async def peek(chunks: AsyncIterator[bytes], size: int) -> tuple[bytes, AsyncIterator[bytes]]:
    """At least `size` first bytes of `chunks` (fewer when it is shorter), and the whole stream
    again, those bytes included, to read on."""
    head = b""
    async for chunk in chunks:
        head += chunk
        if len(head) >= size:
            break
    return head[:size], _Replay(head, chunks)


class _Replay:
    """The bytes already read, then the rest. A class, not a generator: `aclose()` must reach
    the source even before the first chunk is asked for, which a generator's `finally` would
    not."""

    def __init__(self, head: bytes, rest: AsyncIterator[bytes]) -> None:
        self._head = head
        self._rest = rest

    def __aiter__(self) -> _Replay:
        return self

    async def __anext__(self) -> bytes:
        if self._head:
            head, self._head = self._head, b""
            return head
        return await anext(self._rest)

    async def aclose(self) -> None:
        aclose = getattr(self._rest, "aclose", None)
        if aclose is not None:
            await aclose()


CONTENT_MISMATCH = "File content does not match its type"


def too_large_message(limit: int) -> str:
    return f"File too large. Max size: {limit / 1048576} MB"


async def checked_stream(
    chunks: AsyncIterator[bytes], limit: int, extension: str, declared_type: str | None
) -> AsyncIterator[bytes]:
    """Pass the stream through, refusing it past `limit` bytes or when its content lies.

    The refusal happens while streaming, so an oversized upload is never held in memory and
    the storage write is aborted by the exception.
    """
    head = b""
    checked = False
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise Invalid(too_large_message(limit))
        if not checked:
            head += chunk
            if len(head) < SNIFF_BYTES:
                continue
            if not content_matches(extension, declared_type, head[:SNIFF_BYTES]):
                raise Invalid(CONTENT_MISMATCH)
            checked = True
            chunk, head = head, b""
        yield chunk
    if not checked:
        if not content_matches(extension, declared_type, head):
            raise Invalid(CONTENT_MISMATCH)
        if head:
            yield head

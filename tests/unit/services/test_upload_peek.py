"""`peek`: the first bytes of an upload stream, and the whole stream again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from faros.domain.services.uploads import peek


class Chunks:
    def __init__(self, *chunks: bytes) -> None:
        self._chunks = list(chunks)
        self.pulled = 0
        self.closed = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if not self._chunks:
            raise StopAsyncIteration
        self.pulled += 1
        return self._chunks.pop(0)

    async def aclose(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("chunks", "head"),
    [
        ((b"abc", b"def", b"ghi", b"jkl"), b"abcdefg"),
        ((b"abcdefghijkl",), b"abcdefg"),
        ((b"ab", b"c"), b"abc"),
        ((), b""),
    ],
)
async def test_peek_gives_the_head_and_replays_everything(
    chunks: tuple[bytes, ...], head: bytes
) -> None:
    source = Chunks(*chunks)
    got, stream = await peek(source, 7)
    assert got == head
    # Only what the head needed was read before the stream is consumed.
    assert source.pulled == min(len(chunks), 3 if len(chunks) == 4 else len(chunks))
    assert b"".join([chunk async for chunk in stream]) == b"".join(chunks)


async def test_closing_the_replay_before_reading_it_closes_the_source() -> None:
    source = Chunks(b"abcdefgh", b"ijk")
    _, stream = await peek(source, 4)
    aclose = stream.aclose
    await aclose()
    assert source.closed

"""Fixtures for the attachment and avatar suites (§3.6, §3.9, §7, D18 to D20).

They sit on top of ``tests/http/conftest.py`` (``api``, ``anon``, ``kit``, ``container``): the
session app stores files on local disk under ``container.settings.upload_dir``, so a test can
look at exactly what storage holds. The moto server fixtures come from the blob storage
contract suite (``tests/contract/blob_fixtures.py``) so both suites share one definition.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))

from blob_fixtures import aws_credentials, moto_endpoint, s3_admin  # noqa: F401

MIB = 1024 * 1024
LIMIT = 10 * MIB

# The smallest real files of each allowed kind: what the content sniffer must accept.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7V\x1d\xc5"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
WEBP = (
    b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00"
    b"\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(56)
DOCX = b"PK\x03\x04\x14\x00\x06\x00" + bytes(30)


def binary(size: int, seed: int = 7) -> bytes:
    """Incompressible-looking bytes of every value (NUL, CR, LF, boundary-like dashes)."""
    pattern = bytes((i * 131 + seed) % 256 for i in range(65537))
    whole, rest = divmod(size, len(pattern))
    return pattern * whole + pattern[:rest]


def png_of_size(size: int) -> bytes:
    """A PNG signature followed by filler: the sniffer only reads the head."""
    return (PNG + binary(size))[:size]


def task_objects(root: Path, task_id: int) -> list[str]:
    """Stored attachment objects of one task (keys are `task_<id>_<uuid4><ext>`, §7.1)."""
    if not root.exists():
        return []
    return sorted(p.name for p in root.glob(f"task_{task_id}_*") if p.is_file())


def leftovers(root: Path) -> list[str]:
    """Temporary files a failed or refused write would have left behind."""
    if not root.exists():
        return []
    return sorted(p.name for p in root.rglob(".faros-upload-*"))


async def drain_outbox(container: Any, done: Callable[[], bool]) -> None:
    """Run the outbox worker until `done()` holds; other tests' messages may share the batch."""
    for _ in range(50):
        if done():
            return
        if await container.outbox.run_once() == 0 and done():
            return
    assert done(), "the outbox never carried out the expected removal"


def multipart_head(boundary: str, disposition: str, content_type: str | None) -> bytes:
    lines = [f"--{boundary}", f"Content-Disposition: {disposition}"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def raw_multipart(
    disposition: str, data: bytes, content_type: str | None = "text/plain"
) -> tuple[bytes, dict[str, str]]:
    """A hand-written body, for headers httpx would re-encode (quotes, bare types)."""
    boundary = "faros-test-boundary-7d1f"
    body = multipart_head(boundary, disposition, content_type) + data
    body += f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


class CountingBody:
    """A request body produced lazily in chunks, counting how much the server pulled."""

    def __init__(
        self,
        boundary: str,
        filename: str,
        size: int,
        content_type: str = "text/plain",
        chunk: int = 64 * 1024,
        between: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self.boundary = boundary
        self.head = multipart_head(
            boundary, f'form-data; name="file"; filename="{filename}"', content_type
        )
        self.tail = f"\r\n--{boundary}--\r\n".encode()
        self.size = size
        self.chunk = chunk
        self.between = between
        # The file's first bytes; filler follows (text "aaa…" unless `first` says otherwise).
        self.first = b""
        self.pulled = 0
        self.total = len(self.head) + size + len(self.tail)

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Content-Type": f"multipart/form-data; boundary={self.boundary}",
            "Content-Length": str(self.total),
        }

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.pulled += len(self.head)
        yield self.head
        sent = 0
        block = b"a" * self.chunk
        while sent < self.size:
            piece = block[: min(self.chunk, self.size - sent)]
            if sent == 0 and self.first:
                piece = (self.first + piece)[: len(piece)]
            sent += len(piece)
            self.pulled += len(piece)
            yield piece
            if self.between is not None:
                await self.between(sent)
        self.pulled += len(self.tail)
        yield self.tail


@pytest.fixture(scope="session")
def files() -> SimpleNamespace:
    """This folder's helpers, for test modules (no import of conftest needed)."""
    return SimpleNamespace(
        MIB=MIB,
        LIMIT=LIMIT,
        PNG=PNG,
        JPEG=JPEG,
        GIF=GIF,
        WEBP=WEBP,
        PDF=PDF,
        DOC=DOC,
        DOCX=DOCX,
        binary=binary,
        png_of_size=png_of_size,
        task_objects=task_objects,
        leftovers=leftovers,
        drain_outbox=drain_outbox,
        raw_multipart=raw_multipart,
        CountingBody=CountingBody,
    )


@pytest.fixture(scope="session")
def upload_root(container: Any) -> Path:
    """Where the session app's local storage keeps objects."""
    root: Path = container.settings.upload_dir
    return root

"""Streaming the `file` part of a multipart upload without holding the body in memory.

Litestar's form parsing buffers the whole request; uploads instead feed the body, chunk by
chunk, to python-multipart's push parser and hand the `file` part's bytes on as they arrive.
The domain reads that stream once, so a 10 MiB cap is enforced while the client is sending.
The first part named `file` is used (the original used the last one; streaming cannot know
whether another follows, and no client sends two).

Routes bound their bodies at the file cap plus `MULTIPART_SLACK`, so a body announced larger is
refused before a byte is read; that refusal carries the domain's "File too large" answer, since
the only part clients send is the file.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from faros.domain.errors import Invalid
from faros.domain.services.uploads import too_large_message
from faros.entrypoints.http.validation import RequestValidationError

# Room for the part headers (a long file name) and the boundaries around the file's bytes.
MULTIPART_SLACK = 64 * 1024

_MISSING_FILE: dict[str, Any] = {
    "type": "missing",
    "loc": ["body", "file"],
    "msg": "Field required",
    "input": None,
}
_NOT_A_FILE: dict[str, Any] = {
    "type": "value_error",
    "loc": ["body", "file"],
    "msg": "Value error, Expected UploadFile, received: <class 'str'>",
    "input": None,
    "ctx": {"error": {}},
}


@dataclass(slots=True)
class FilePart:
    filename: str
    content_type: str | None
    chunks: AsyncIterator[bytes]


class _Events:
    """Collects python-multipart callbacks as a list of events to replay asynchronously."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []
        self._field = bytearray()
        self._value = bytearray()

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": lambda: self.items.append(("begin", None)),
            "on_part_data": self._data,
            "on_part_end": lambda: self.items.append(("end", None)),
            "on_header_field": lambda data, start, end: self._field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._value.extend(data[start:end]),
            "on_header_end": self._header_end,
        }

    def _data(self, data: bytes, start: int, end: int) -> None:
        self.items.append(("data", bytes(data[start:end])))

    def _header_end(self) -> None:
        self.items.append(("header", (bytes(self._field).lower(), bytes(self._value))))
        self._field.clear()
        self._value.clear()


async def _events(
    request: Request[Any, Any, Any], boundary: bytes
) -> AsyncGenerator[tuple[str, Any], None]:
    collector = _Events()
    parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
    async for chunk in request.stream():
        parser.write(chunk)
        items, collector.items = collector.items, []
        for item in items:
            yield item
    parser.finalize()
    for item in collector.items:
        yield item


def _boundary(request: Request[Any, Any, Any]) -> bytes | None:
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data":
        return None
    return options.get(b"boundary") or None


def body_limit(max_file_size: int) -> int:
    """`request_max_body_size` for a route whose file may have `max_file_size` bytes."""
    return max_file_size + MULTIPART_SLACK


@asynccontextmanager
async def single_file_part(
    request: Request[Any, Any, Any], max_file_size: int
) -> AsyncIterator[FilePart]:
    """Yield the upload's `file` part; 422 in the contract's shape when there is none."""
    boundary = _boundary(request)
    if boundary is None:
        raise RequestValidationError([_MISSING_FILE])
    events = _events(request, boundary)
    headers: dict[bytes, bytes] = {}
    try:
        async for kind, value in events:
            if kind == "begin":
                headers = {}
                continue
            if kind == "header":
                headers[value[0]] = value[1]
                continue
            # The first data (or the end, for an empty part) follows the complete headers.
            _, options = parse_options_header(headers.get(b"content-disposition", b""))
            if options.get(b"name") != b"file":
                continue
            if b"filename" not in options:
                raise RequestValidationError([_NOT_A_FILE])
            first = value if kind == "data" else b""
            yield FilePart(
                filename=options[b"filename"].decode("utf-8", "replace"),
                content_type=_content_type(headers),
                chunks=_part_bytes(first, events, ended=kind == "end"),
            )
            return
        raise RequestValidationError([_MISSING_FILE])
    except RequestEntityTooLarge as error:
        # Raised by the body stream, here or while the caller reads the part.
        raise Invalid(too_large_message(max_file_size)) from error
    finally:
        await events.aclose()


def _content_type(headers: dict[bytes, bytes]) -> str | None:
    raw = headers.get(b"content-type")
    return raw.decode("latin-1").strip() or None if raw else None


async def _part_bytes(
    first: bytes, events: AsyncIterator[tuple[str, Any]], *, ended: bool
) -> AsyncIterator[bytes]:
    if first:
        yield first
    if ended:
        return
    async for kind, value in events:
        if kind == "data":
            yield value
        elif kind == "end":
            return
    # The body ended inside the part: a truncated file must not be stored as if whole. The
    # app answers python-multipart's parse errors with a 422, and the storage write is undone.
    raise MultipartParseError("The file part ends without its closing boundary")

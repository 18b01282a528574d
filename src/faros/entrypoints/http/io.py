"""Reading requests into the structs of `schemas.py` through the contract's validation."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request

from faros.domain.errors import NotFound, TaskNotFound
from faros.entrypoints.http.validation import (
    decode_body,
    is_json_content_type,
    parse_query,
    path_int,
)

_T = TypeVar("_T")


async def read_body(request: Request[Any, Any, Any], shape: type[_T]) -> _T:
    """A non-JSON Content-Type makes the body a plain string, which fails as §1.7 says."""
    json_content = is_json_content_type(request.headers.get("content-type"))
    return decode_body(shape, await request.body(), json_content=json_content)


def read_query(request: Request[Any, Any, Any], shape: type[_T]) -> _T:
    # The raw query string: blank values are kept (`limit=` is a 422), the last repeat wins.
    return parse_query(shape, request.scope["query_string"])


# Path ids are routed as `{name:str}` (an unparsable `:int` segment would be Litestar's 404;
# the contract wants 422 `int_parsing`); ids beyond the 32-bit range are the route's 404.


def task_id_of(raw: str) -> int:
    return path_int("task_id", raw, not_found=TaskNotFound)


def comment_id_of(raw: str) -> int:
    return path_int("comment_id", raw, not_found=lambda _: NotFound("Comment not found"))


def file_id_of(raw: str) -> int:
    return path_int(
        "file_id", raw, not_found=lambda value: NotFound(f"File with ID {value} not found")
    )


def user_id_of(raw: str) -> int:
    return path_int("user_id", raw, not_found=lambda _: NotFound("Avatar not found"))

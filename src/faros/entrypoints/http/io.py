"""Reading path ids and odd bodies into typed values through the contract's validation.

Queries and Struct bodies need nothing here: the `params` and `payload` dependencies
(deps.py) read what a route's `query=` and `body=` options declare.
"""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request
from litestar.di import NamedDependency, Provide

from faros.domain.errors import NotFound, TaskNotFound
from faros.entrypoints.http.validation import (
    decode_body,
    is_json_content_type,
    path_int,
)

_T = TypeVar("_T")


def body_of(shape: Any) -> Provide:
    """A route's own `payload` dependency, for a body shape its `body=` option cannot hold.

    Litestar deep-copies route options, and the msgspec metadata of an `Annotated` alias such
    as `Tags` cannot be copied: such a route documents the plain type with `body=` and decodes
    the real one here, in the place of `deps.route_payload` (same link of the chain).
    """

    async def decode(request: Request[Any, Any, Any], params: NamedDependency[Any]) -> Any:
        json_content = is_json_content_type(request.headers.get("content-type"))
        return decode_body(shape, await request.body(), json_content=json_content)

    return Provide(decode)


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

"""Reading bodies and path ids into typed values through the contract's validation.

A handler's `data: Annotated[Shape, contract_body(Shape)]` is decoded by `ValidationPlugin` with
the contract's decoder; queries come from the `params` dependency (deps.py).
"""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, BodyKwarg

from faros.domain.errors import NotFound, TaskNotFound
from faros.entrypoints.http.validation import (
    decode_body,
    is_json_content_type,
    path_int,
)

_T = TypeVar("_T")


def contract_body(shape: Any) -> BodyKwarg:
    """The `data:` marker of a JSON body `shape`, decoded by the contract's decoder.

    `ValidationPlugin` documents it as the component named after the Struct, the contract's
    schema of it (what is really accepted: lax booleans and dates, patterns, stripped lengths).
    """
    del shape  # named for the reader; the annotation it marks is what the plugin reads
    marker: BodyKwarg = Body(media_type=RequestEncodingType.JSON)
    return marker


def body_of(shape: Any) -> Provide:
    """A dependency decoding the body into `shape`, for shapes a `data:` parameter would lose.

    Litestar hands the plugin a `data:` annotation without its outer `Annotated` metadata, so
    a constrained bare list (`Tags`: at most so many items) is decoded here instead; its route
    documents the plain list with `body=`. A non-JSON Content-Type makes the body a plain
    string, which fails as §1.7 says.
    """

    async def decode(request: Request[Any, Any, Any]) -> Any:
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

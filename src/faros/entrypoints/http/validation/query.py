"""Query strings and path ids, read as text and answered in the 422 format with `query` and
`path` locations. Query values keep blank entries (`limit=` is a 422, not the default) and the
last repeat of a key wins."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Final, TypeVar, cast
from urllib.parse import unquote

from litestar.openapi.spec import OpenAPIType
from litestar.params import Parameter

from faros.domain.errors import NotFound
from faros.domain.ids import INT32_MAX, INT32_MIN
from faros.entrypoints.http.validation.checks import Fields
from faros.entrypoints.http.validation.errors import (
    INT_PARSING,
    ErrorDict,
    RequestValidationError,
    error,
)

if TYPE_CHECKING:
    pass

T = TypeVar("T")
QueryInput = Mapping[str, str] | Iterable[tuple[str, str]] | bytes | str

_QUERY_SHAPES: dict[Any, Fields] = {}


def parse_query(target: type[T], params: QueryInput) -> T:
    """Validate query parameters into the Struct `target`, from the raw `query_string` (bytes),
    a Litestar `MultiDict`, a mapping or a list of pairs."""
    shape = _QUERY_SHAPES.get(target)
    if shape is None:
        shape = _QUERY_SHAPES[target] = Fields(cast(Any, target), query=True)
    errors: list[ErrorDict] = []
    result = shape(dict(_last_values(params)), ("query",), errors)
    if errors:
        raise RequestValidationError(errors)
    return cast(T, result)


def _unquote(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    return unquote(text) if "%" in text else text


def _last_values(params: QueryInput) -> Mapping[str, str]:
    if isinstance(params, bytes | str):
        text = params.decode("latin-1") if isinstance(params, bytes) else params
        # `parse_qsl(keep_blank_values=True)` without its per-call overhead.
        values: dict[str, str] = {}
        for pair in text.split("&"):
            if pair:
                key, _, value = pair.partition("=")
                values[_unquote(key)] = _unquote(value)
        return values
    if isinstance(params, Mapping):
        # A MultiDict's multi_items() yields every pair in order, so dict() keeps the last one.
        items = getattr(params, "multi_items", None)
        return dict(items()) if callable(items) else params
    return dict(params)


IntPath = Annotated[str, Parameter(schema_extra={"type": OpenAPIType.INTEGER})]
"""A path id routed as `{name:str}` and read with `path_int`; documented as an integer."""

# One resource, one URL: `1.0`, `+1`, ` 1` or `1_0` are not other spellings of an id.
_PATH_ID: Final = re.compile(r"-?[0-9]{1,4300}")


def path_int(name: str, raw: str, *, not_found: Callable[[int], Exception] | None = None) -> int:
    """A path id: 422 `int_parsing` unless plain decimal digits. Ids outside the 32-bit serial
    range name no record: they raise `not_found(value)`, or a plain 404, not a database error."""
    if not _PATH_ID.fullmatch(raw):
        raise RequestValidationError([error("int_parsing", ("path", name), INT_PARSING, raw)])
    value = int(raw)
    if not INT32_MIN <= value <= INT32_MAX:
        raise not_found(value) if not_found is not None else NotFound("Not Found")
    return value

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

from faros.domain.errors import NotFound, TaskNotFound
from faros.domain.ids import INT32_MAX, INT32_MIN
from faros.entrypoints.http.validation.checks import Fields
from faros.entrypoints.http.validation.errors import (
    INT_PARSING,
    ErrorDict,
    RequestValidationError,
    error,
    value_error,
)

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.connection import ASGIConnection
    from litestar.handlers.base import BaseRouteHandler

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


def unparsable_path_params(app: Litestar, path: str) -> list[ErrorDict]:
    """The 422 items for a path whose typed segment (`{task_id:int}`) did not parse, which
    Litestar answers with a plain 404. Only called on that error path."""
    segments = [segment for segment in path.split("/") if segment]
    for route in app.routes:
        if len(route.path_components) != len(segments):
            continue
        errors: list[ErrorDict] = []
        for component, segment in zip(route.path_components, segments, strict=True):
            if isinstance(component, str):
                if component != segment:
                    break
            elif component.parser is not None:
                try:
                    component.parser(segment)
                except (ValueError, TypeError):
                    loc = ("path", component.name)
                    errors.append(
                        error("int_parsing", loc, INT_PARSING, segment)
                        if component.type is int
                        else value_error(loc, "invalid value", segment)
                    )
        else:
            if errors:
                return errors
    return []


def int32_path_guard(
    not_found: Mapping[str, Callable[[int], Exception]] | None = None,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]:
    """A guard answering `{x:int}` ids outside the 32-bit range with the route's 404:
    `not_found` maps a parameter name to it (default: `task_id` → `TaskNotFound`). List it
    after the authentication guard so 401 still comes first."""
    mapping = not_found if not_found is not None else {"task_id": TaskNotFound}

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        for name, value in connection.path_params.items():
            if isinstance(value, int) and not INT32_MIN <= value <= INT32_MAX:
                factory = mapping.get(name)
                raise factory(value) if factory is not None else NotFound("Not Found")

    return guard

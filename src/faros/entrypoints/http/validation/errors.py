"""The 422 answer (API.md §1.7 and D7a): one item per offending value, and a readable sentence."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Final, NotRequired, TypedDict, cast

from msgspec import UNSET, Meta, Struct, UnsetType

Loc = tuple[str | int, ...]

INT_PARSING: Final = "Input should be a valid integer, unable to parse string as an integer"
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


class ErrorDict(TypedDict):
    """One item of the 422 `errors` list (pydantic's shape, without its `url` key)."""

    type: str
    loc: list[str | int]
    msg: str
    input: Any
    ctx: NotRequired[dict[str, Any]]


class ValidationErrorBody(TypedDict):
    """The 422 body (D7a): the first item as a sentence, then every item."""

    detail: str
    errors: list[ErrorDict]


# The 422 body as the OpenAPI document shows it (the answer itself is built from the dicts above).
_JSON_VALUE: Final = Meta(
    description="The offending value as sent (any JSON value)",
    extra_json_schema={
        "type": ["string", "number", "integer", "boolean", "array", "object", "null"],
        "items": {"description": "Any JSON value"},
    },
)


class ValidationErrorItem(Struct):
    """One offending value: its kind, where it is (`body`/`query`/`path`, then keys), why."""

    type: str
    loc: list[str | int]
    msg: str
    input: Annotated[Any, _JSON_VALUE]
    ctx: (
        Annotated[
            dict[str, Any],
            Meta(
                description="Details of the rule broken, by name",
                extra_json_schema={"additionalProperties": True},
            ),
        ]
        | UnsetType
    ) = UNSET


class ValidationError(Struct):
    """D7a: `detail` is the first item as one sentence, `errors` every offending value."""

    detail: str
    errors: Annotated[list[ValidationErrorItem], Meta(min_length=1)]


def error(
    kind: str, loc: Loc, msg: str, value: Any, ctx: dict[str, Any] | None = None
) -> ErrorDict:
    item: ErrorDict = {"type": kind, "loc": list(loc), "msg": msg, "input": value}
    if ctx is not None:
        item["ctx"] = ctx
    return item


def missing_error(loc: Loc, enclosing: Any) -> ErrorDict:
    """`Field required`; `enclosing` is the whole object the key is missing from (or None)."""
    return error("missing", loc, "Field required", enclosing)


def value_error(loc: Loc, message: str, value: Any) -> ErrorDict:
    """A rule on one field, in pydantic's `value_error` form."""
    return error("value_error", loc, f"Value error, {message}", value, {"error": {}})


def describe_error(item: ErrorDict) -> str:
    """One sentence naming the offending field (D7a), e.g. `title: Field required`."""
    loc = item["loc"]
    if item["type"] == "json_invalid":
        reason = item.get("ctx", {}).get("error", "")
        position = loc[1] if len(loc) > 1 else 0
        return f"body: JSON decode error ({reason} at position {position})"
    name = ""
    for part in loc[1:]:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return f"{name or loc[0] if loc else 'request'}: {item['msg']}"


class RequestValidationError(Exception):
    """Every validation error found in one request; rendered as 422 by `errors.py`."""

    def __init__(self, errors: Sequence[ErrorDict] | Sequence[Mapping[str, Any]]) -> None:
        if not errors:
            raise ValueError("RequestValidationError needs at least one error")
        self.errors: list[ErrorDict] = [cast(ErrorDict, item) for item in errors]
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        return describe_error(self.errors[0])

    def to_body(self) -> dict[str, Any]:
        # `input` echoes what was sent; a lone surrogate in it could not be encoded as UTF-8.
        return {"detail": _encodable(self.detail), "errors": _encodable(self.errors)}


def _encodable(value: Any, depth: int = 0) -> Any:
    """`value` with lone surrogates written as `\\udXXX` escapes; bodies deeper than the
    decoder's nesting limit never get here, and anything deeper is cut off, not walked."""
    if isinstance(value, str):
        if _SURROGATE.search(value) is None:
            return value
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if depth > 48:
        return None
    if isinstance(value, dict):
        return {_encodable(k, depth + 1): _encodable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_encodable(item, depth + 1) for item in value]
    return value

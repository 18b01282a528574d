"""Request validation at the HTTP edge, answering in the contract's 422 format (§1.7 + D7a).

Request bodies and query sets are declared as `msgspec.Struct` classes (see `schemas.py`):
`Annotated[str, Meta(min_length=..., max_length=..., pattern=..., extra={"strip": True})]`,
`Annotated[int, Meta(ge=..., le=...)]`, `bool`, `Literal[...]`, `datetime.date`,
`datetime.datetime`, `list[...]`, nested Structs, `X | None`, and `X | UnsetType = UNSET` for
"absent" (PATCH). `extra={"strip": True}` trims a string before its length checks; an error
still quotes the untrimmed input. Unknown keys are ignored.

How controllers use it (the mechanism, and why)
-----------------------------------------------
Handlers take the `Request` and read explicitly what they need, declaring the shapes as
keyword arguments of the route decorator so the OpenAPI document shows them::

    @patch("/{task_id:str}", body=TaskUpdateIn, guards=[authenticated])
    async def update_task(request: Request[Any, Any, Any], task_id: IntPath) -> TaskOut:
        data = decode_body(TaskUpdateIn, await request.body())
        ...

    @get("/", query=TaskListQuery, guards=[authenticated])
    async def list_tasks(request: Request[Any, Any, Any]) -> TaskPageOut:
        query = parse_query(TaskListQuery, request.scope["query_string"])

* Litestar's own parameter and body parsing answers 400 in its own shape, coerces differently
  from the contract (no "yes"/"on"/"t" booleans, no "1.0" integers, blank query values
  dropped), and stops at the first error; the contract wants pydantic's type/msg pairs for
  every error at once. Parsing inside the handler keeps all of that in one place.
* §1.8 orders 401 → 422 → 429 → route logic. Authentication runs as a guard (before any
  parsing); the handler then decodes (422) before it counts the request against a rate limit.
* Unknown decorator keyword arguments land in the handler's `opt`. `ValidationPlugin` reads
  `opt["body"]` / `opt["query"]` to document the request body and the typed query parameters,
  replaces Litestar's documented 400 "Validation Exception" by the real 422 shape, and lets
  `IntPath` document string-routed ids as integers. Schemathesis therefore sees real shapes.
* A handler that declares `data: SomeStruct` instead still gets this decoder: the plugin gives
  such parameters a DTO that calls `decode_body` (Litestar's empty-body 400 becomes the
  `missing` 422 in `errors.py`). It decodes before dependencies run, so keep auth in guards.

Path ids are routed as `{task_id:str}`, annotated `IntPath`, and read with `path_int`, which
answers 422 `int_parsing` for non-integers and turns ids beyond the 32-bit serial range into
the route's 404 instead of a database overflow. (Routes that keep `{x:int}` still get the 422:
`errors.py` turns Litestar's parse-failure 404 into it via `unparsable_path_params`; add
`int32_path_guard()` after the auth guard to cover huge ids there.)

Body Content-Type: pass `json_content=is_json_content_type(header)`; a non-JSON body is then
validated as a plain string and fails the type check, as the original did.

Hostile input: a JSON body must be UTF-8 and nest at most `MAX_JSON_DEPTH` levels (deeper,
even 100 000 levels, is a 422 `json_invalid`, never a RecursionError); a string holding NUL
(PostgreSQL text cannot) or an unpaired surrogate (UTF-8 cannot) is a 422 `value_error`, in
bodies and query strings alike; the 422 echo of such input is made encodable.

Performance: `decode_body` first runs msgspec's strict C decoder with the target type; only
the `strip` fields are then touched in Python. Only input that fails there (malformed, wrong
types, lax coercions, post-strip length violations) takes the slow walker, which re-checks
the whole value and collects every error. Strict mode keeps the fast path a subset of what the
walker accepts, so the result never depends on which path ran.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    Final,
    Literal,
    NotRequired,
    TypedDict,
    TypeVar,
    cast,
)
from urllib.parse import unquote

import msgspec
import msgspec.inspect as mi
from litestar.dto import AbstractDTO, DTOConfig
from litestar.enums import ParamType, RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.openapi.spec import Parameter as OpenAPIParameter
from litestar.params import BodyKwarg, Parameter
from litestar.plugins import SerializationPlugin
from litestar.plugins.base import ReceiveRoutePlugin
from litestar.routes import HTTPRoute

from faros.domain.errors import NotFound, TaskNotFound
from faros.domain.text import control_character_problem
from faros.entrypoints.http.openapi import document_operation, route_key

if TYPE_CHECKING:
    from collections.abc import Collection, Generator

    from litestar import Litestar
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.connection import ASGIConnection
    from litestar.dto.data_structures import DTOFieldDefinition
    from litestar.handlers import HTTPRouteHandler
    from litestar.handlers.base import BaseRouteHandler
    from litestar.openapi.spec import Reference
    from litestar.routes import BaseRoute
    from litestar.typing import FieldDefinition

__all__ = [
    "INT32_MAX",
    "ErrorDict",
    "IntPath",
    "RequestValidationError",
    "ValidationPlugin",
    "decode_body",
    "describe_error",
    "int32_path_guard",
    "is_json_content_type",
    "missing_error",
    "parse_query",
    "path_int",
    "unparsable_path_params",
    "value_error",
]

T = TypeVar("T")
Loc = tuple[str | int, ...]

INT32_MAX: Final = 2**31 - 1
INT32_MIN: Final = -(2**31)


class ErrorDict(TypedDict):
    """One item of the 422 `errors` list, as pydantic/FastAPI print it (no `url` key)."""

    type: str
    loc: list[str | int]
    msg: str
    input: Any
    ctx: NotRequired[dict[str, Any]]


def _error(
    kind: str, loc: Loc, msg: str, value: Any, ctx: dict[str, Any] | None = None
) -> ErrorDict:
    item: ErrorDict = {"type": kind, "loc": list(loc), "msg": msg, "input": value}
    if ctx is not None:
        item["ctx"] = ctx
    return item


def missing_error(loc: Loc, enclosing: Any) -> ErrorDict:
    """`Field required`; `enclosing` is the whole object the key is missing from (or None)."""
    return _error("missing", loc, "Field required", enclosing)


def value_error(loc: Loc, message: str, value: Any) -> ErrorDict:
    """A domain rule on one field, in pydantic's `value_error` form (ctx as FastAPI prints it)."""
    return _error("value_error", loc, f"Value error, {message}", value, {"error": {}})


def describe_error(error: ErrorDict) -> str:
    """One readable sentence naming the offending field (D7a), e.g. `title: Field required`."""
    loc = error["loc"]
    if error["type"] == "json_invalid":
        reason = error.get("ctx", {}).get("error", "")
        position = loc[1] if len(loc) > 1 else 0
        return f"body: JSON decode error ({reason} at position {position})"
    name = ""
    for part in loc[1:]:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else part
    return f"{name or loc[0] if loc else 'request'}: {error['msg']}"


class RequestValidationError(Exception):
    """Every validation error found in one request; rendered as 422 by `errors.py`."""

    def __init__(self, errors: Sequence[ErrorDict] | Sequence[Mapping[str, Any]]) -> None:
        if not errors:
            raise ValueError("RequestValidationError needs at least one error")
        self.errors: list[ErrorDict] = [cast(ErrorDict, error) for error in errors]
        super().__init__(describe_error(self.errors[0]))

    @property
    def detail(self) -> str:
        return describe_error(self.errors[0])

    def to_body(self) -> dict[str, Any]:
        # `input` echoes what was sent; a lone surrogate in it could not be encoded as UTF-8.
        errors = [_encodable(error) for error in self.errors]
        return {"detail": _encodable(self.detail), "errors": errors}


_SURROGATE: Final = re.compile("[\ud800-\udfff]")
MAX_JSON_DEPTH: Final = 32
"""No request shape nests deeper than a few levels; deeper bodies are refused outright."""


def _encodable(value: Any, depth: int = 0) -> Any:
    """`value` with lone surrogates written as `\\udXXX` escapes, so it encodes as UTF-8.

    Inputs reach here only after the depth check of `decode_body`, so the recursion is shallow;
    anything deeper than that is cut off rather than walked.
    """
    if isinstance(value, str):
        if _SURROGATE.search(value) is None:
            return value
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if depth > MAX_JSON_DEPTH + 8:
        return None
    if isinstance(value, dict):
        return {_encodable(k, depth + 1): _encodable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_encodable(item, depth + 1) for item in value]
    return value


# --- Error texts (pydantic v2 wording) ---------------------------------------------------------


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


def _expected_text(values: tuple[Any, ...]) -> str:
    shown = [repr(v) for v in values]
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} or {shown[-1]}"


_STRING_TYPE = "Input should be a valid string"
_INT_TYPE = "Input should be a valid integer"
_INT_PARSING = "Input should be a valid integer, unable to parse string as an integer"
_INT_FROM_FLOAT = "Input should be a valid integer, got a number with a fractional part"
_BOOL_TYPE = "Input should be a valid boolean"
_BOOL_PARSING = "Input should be a valid boolean, unable to interpret input"
_LIST_TYPE = "Input should be a valid list"
_DATE_TYPE = "Input should be a valid date"
_DATETIME_TYPE = "Input should be a valid datetime"
_DATE_INEXACT = "Datetimes provided to dates should have zero time - e.g. be exact dates"
_MODEL_TYPE = "Input should be a valid dictionary or object to extract fields from"
_FINITE = "Input should be a finite number"
# PostgreSQL text cannot hold NUL, and UTF-8 cannot hold a lone surrogate (a JSON `\\ud800`
# escape decodes to one): both would fail in the database as a 500, so they are refused here.
_NUL_TEXT = "String must not contain NUL characters"
_SURROGATE_TEXT = "String must not contain unpaired surrogate characters"

_TRUE_WORDS: Final = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE_WORDS: Final = frozenset({"0", "off", "f", "false", "n", "no"})
_INT_STR = re.compile(r"[+-]?[0-9]+(?:\.0*)?")


class _Invalid:
    """Marks a value that produced an error; the caller stops building its parent."""

    __slots__ = ()


INVALID: Final = _Invalid()


def _parse_int_str(text: str) -> int | None:
    # pydantic trims whitespace and accepts a zero fraction ("1.0") but nothing else.
    text = text.strip()
    if len(text) > 4300 or not _INT_STR.fullmatch(text):
        return None
    return int(text.split(".", 1)[0])


# --- Dates (a port of speedate's parser, for pydantic's error reasons) -----------------------


class _DateParseError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_DIGITS: Final = frozenset("0123456789")
_UNIX_1600: Final = -11_676_096_000
_UNIX_9999: Final = 253_402_300_799
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NUMBER: Final = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def _digits(text: str, start: int, count: int, reason: str) -> int:
    chunk = text[start : start + count]
    if len(chunk) != count or not all(c in _DIGITS for c in chunk):
        raise _DateParseError(reason)
    return int(chunk)


def _parse_date_prefix(text: str) -> dt.date:
    if len(text) < 10:
        raise _DateParseError("input is too short")
    year = _digits(text, 0, 4, "invalid character in year")
    if text[4] != "-":
        raise _DateParseError("invalid date separator, expected `-`")
    month = _digits(text, 5, 2, "invalid character in month")
    if text[7] != "-":
        raise _DateParseError("invalid date separator, expected `-`")
    day = _digits(text, 8, 2, "invalid character in day")
    if year < 1:
        raise _DateParseError("years before 1600 are not supported")
    if not 1 <= month <= 12:
        raise _DateParseError("month value is outside expected range of 1-12")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise _DateParseError("day value is outside expected range") from None


def _parse_date_exact(text: str) -> dt.date:
    day = _parse_date_prefix(text)
    if len(text) > 10:
        raise _DateParseError("unexpected extra characters at the end of the input")
    return day


def _parse_time_suffix(text: str, start: int) -> tuple[dt.time, dt.tzinfo | None]:
    if len(text) - start < 5:
        raise _DateParseError("input is too short")
    hour = _digits(text, start, 2, "invalid character in hour")
    if text[start + 2] != ":":
        raise _DateParseError("invalid time separator, expected `:`")
    minute = _digits(text, start + 3, 2, "invalid character in minute")
    if hour > 23:
        raise _DateParseError("hour value is outside expected range of 0-23")
    if minute > 59:
        raise _DateParseError("minute value is outside expected range of 0-59")
    pos = start + 5
    second = micro = 0
    if pos < len(text) and text[pos] == ":":
        second = _digits(text, pos + 1, 2, "invalid character in second")
        if second > 59:
            raise _DateParseError("second value is outside expected range of 0-59")
        pos += 3
        if pos < len(text) and text[pos] in ".,":
            pos += 1
            end = pos
            while end < len(text) and text[end] in _DIGITS:
                end += 1
            if end == pos:
                raise _DateParseError("second fraction digits missing after `.`")
            if end - pos > 6:
                raise _DateParseError("second fraction value is more than 6 digits long")
            micro = int(text[pos:end].ljust(6, "0"))
            pos = end
    tz: dt.tzinfo | None = None
    if pos < len(text):
        sign = text[pos]
        if sign in "Zz":
            tz = dt.UTC
            pos += 1
        elif sign in "+-":
            tz_hour = _digits(text, pos + 1, 2, "invalid timezone hour")
            pos += 3
            tz_minute = 0
            if pos < len(text):
                if text[pos] == ":":
                    pos += 1
                tz_minute = _digits(text, pos, 2, "invalid timezone minute")
                pos += 2
            if tz_minute > 59:
                raise _DateParseError("timezone minute value is outside expected range of 0-59")
            offset = tz_hour * 3600 + tz_minute * 60
            if offset >= 86_400:
                raise _DateParseError("timezone offset must be less than 24 hours")
            tz = dt.timezone(dt.timedelta(seconds=-offset if sign == "-" else offset))
        if pos < len(text):
            raise _DateParseError("unexpected extra characters at the end of the input")
    return dt.time(hour, minute, second, micro), tz


def _from_timestamp(stamp: float) -> dt.datetime:
    # speedate reads values above 2e10 as milliseconds.
    seconds = stamp / 1000 if abs(stamp) > 20_000_000_000 else stamp
    if seconds < _UNIX_1600:
        raise _DateParseError("dates before 1600 are not supported as unix timestamps")
    if seconds > _UNIX_9999:
        raise _DateParseError("dates after 9999 are not supported as unix timestamps")
    return _EPOCH + dt.timedelta(seconds=seconds)


def _parse_datetime(text: str) -> dt.datetime:
    try:
        day = _parse_date_prefix(text)
        if len(text) < 11 or text[10] not in "Tt _":
            raise _DateParseError("invalid datetime separator, expected `T`, `t`, `_` or space")
        clock, tz = _parse_time_suffix(text, 11)
    except _DateParseError:
        # speedate falls back to a unix timestamp when the whole input is a number.
        if not _NUMBER.fullmatch(text):
            raise
        return _from_timestamp(float(text))
    return dt.datetime.combine(day, clock, tz)


def _is_midnight(moment: dt.datetime) -> bool:
    return moment.hour == 0 and moment.minute == 0 and moment.second == 0 and not moment.microsecond


# --- What the lax coercions accept, as JSON schema (for the OpenAPI document) -----------------
#
# The contract keeps pydantic's lax input rules (§1.7): booleans from 0/1 and words, integers
# from integer-valued strings and floats, dates and datetimes from unix timestamps. The document
# says so, so that a client (or schemathesis) reading it knows these inputs are valid.


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


_LAX_BOOL: Final[dict[str, Any]] = {
    "anyOf": [
        {"type": "boolean"},
        {"enum": [0, 1]},
        {
            "type": "string",
            "pattern": "^(?:"
            + "|".join(_any_case(w) for w in sorted(_TRUE_WORDS | _FALSE_WORDS))
            + ")$",
        },
    ]
}
_LAX_INT_ALTERNATIVES: Final[list[dict[str, Any]]] = [
    {"type": "string", "pattern": r"^[+-]?[0-9]{1,18}(?:\.0*)?$"},
    {"type": "number", "multipleOf": 1},
    {"type": "boolean"},
]
_DAY_SECONDS: Final = 86_400
# Timestamps: seconds up to 2e10, milliseconds beyond (speedate's rule), years 1600-9999.
_SECONDS_LIMIT: Final = 20_000_000_000
_LAX_DATE: Final[dict[str, Any]] = {
    "anyOf": [
        {"type": "string", "format": "date"},
        {
            "type": "integer",
            "multipleOf": _DAY_SECONDS,
            "minimum": _UNIX_1600,
            "maximum": _SECONDS_LIMIT // _DAY_SECONDS * _DAY_SECONDS,
        },
    ]
}
_LAX_DATETIME: Final[dict[str, Any]] = {
    "anyOf": [
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "date"},
        {"type": "number", "minimum": _UNIX_1600, "maximum": (_UNIX_9999 + 1) * 1000 - 1000},
        {
            "type": "number",
            "minimum": _UNIX_1600 * 1000,
            "exclusiveMaximum": -_SECONDS_LIMIT,
        },
    ]
}
_OPENAPI_KEYS: Final = {
    "multipleOf": "multiple_of",
    "exclusiveMaximum": "exclusive_maximum",
    "exclusiveMinimum": "exclusive_minimum",
}


def _schema_kwargs(part: dict[str, Any]) -> dict[str, Any]:
    return {_OPENAPI_KEYS.get(key, key): value for key, value in part.items()}


def _lax(schema: Any) -> Any:
    """msgspec's strict JSON schema widened to what the lax rules accept."""
    if isinstance(schema, list):
        return [_lax(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kind, form = schema.get("type"), schema.get("format")
    if kind == "boolean":
        return _LAX_BOOL
    if kind == "string" and form == "date":
        return _LAX_DATE
    if kind == "string" and form == "date-time":
        return _LAX_DATETIME
    if kind == "integer" and not {"minimum", "maximum"} & set(schema):
        return {"anyOf": [schema, *_LAX_INT_ALTERNATIVES]}
    return {key: _lax(value) for key, value in schema.items()}


# --- Validation nodes (the slow path, and query/path strings) --------------------------------


class _Node:
    __slots__ = ()

    def check(self, value: Any, loc: Loc, errors: list[ErrorDict]) -> Any:
        raise NotImplementedError

    def openapi(self) -> dict[str, Any]:
        return {}


class _AnyNode(_Node):
    __slots__ = ()

    def check(self, value: Any, loc: Loc, errors: list[ErrorDict]) -> Any:
        return value


class _StrNode(_Node):
    __slots__ = ("max_length", "min_length", "multiline", "pattern", "strip")

    def __init__(
        self,
        min_length: int | None,
        max_length: int | None,
        pattern: str | None,
        strip: bool,
        text: str | None = None,
    ) -> None:
        self.min_length = min_length
        self.max_length = max_length
        self.pattern = re.compile(pattern) if pattern is not None else None
        self.strip = strip
        # `extra={"text": "one_line" | "multiline"}`: the domain's control-character rule,
        # applied to the text as sent. None: any storable text.
        self.multiline = None if text is None else text == "multiline"

    def check(self, value: Any, loc: Loc, errors: list[ErrorDict]) -> Any:
        if not isinstance(value, str):
            errors.append(_error("string_type", loc, _STRING_TYPE, value))
            return INVALID
        unstorable = _unstorable_text(value)
        if unstorable is not None:
            errors.append(value_error(loc, unstorable, value))
            return INVALID
        if self.multiline is not None:
            # On the value as sent, as the document's `pattern` states it (before the pattern
            # check below, whose message would quote the regex).
            reason = control_character_problem(value, multiline=self.multiline)
            if reason is not None:
                errors.append(value_error(loc, reason, value))
                return INVALID
        text = value.strip() if self.strip else value
        problem = self.problem(text, value, loc)
        if problem is not None:
            errors.append(problem)
            return INVALID
        return text

    def problem(self, text: str, original: str, loc: Loc) -> ErrorDict | None:
        size = len(text)
        if self.min_length is not None and size < self.min_length:
            n = self.min_length
            return _error(
                "string_too_short",
                loc,
                f"String should have at least {n} {_plural(n, 'character')}",
                original,
                {"min_length": n},
            )
        if self.max_length is not None and size > self.max_length:
            n = self.max_length
            return _error(
                "string_too_long",
                loc,
                f"String should have at most {n} {_plural(n, 'character')}",
                original,
                {"max_length": n},
            )
        if self.pattern is not None and not self.pattern.search(text):
            pattern = self.pattern.pattern
            return _error(
                "string_pattern_mismatch",
                loc,
                f"String should match pattern '{pattern}'",
                original,
                {"pattern": pattern},
            )
        return None

    def openapi(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": OpenAPIType.STRING}
        if self.min_length is not None:
            schema["min_length"] = self.min_length
        if self.max_length is not None:
            schema["max_length"] = self.max_length
        if self.pattern is not None:
            schema["pattern"] = self.pattern.pattern
        return schema


def _unstorable_text(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    if "\x00" in value:
        return _NUL_TEXT
    if _SURROGATE.search(value) is not None:
        return _SURROGATE_TEXT
    return None


class _IntNode(_Node):
    __slots__ = ("ge", "gt", "le", "lt")

    def __init__(self, info: mi.IntType) -> None:
        self.ge = info.ge
        self.gt = info.gt
        self.le = info.le
        self.lt = info.lt

    def check(self, value: Any, loc: Loc, errors: list[ErrorDict]) -> Any:
        number: int
        if isinstance(value, int):  # bool included: pydantic's lax mode reads True as 1
            number = int(value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                errors.append(_error("finite_number", loc, _FINITE, value))
                return INVALID
            if not value.is_integer():
                errors.append(_error("int_from_float", loc, _INT_FROM_FLOAT, value))
                return INVALID
            number = int(value)
        elif isinstance(value, str):
            parsed = _parse_int_str(value)
            if parsed is None:
                errors.append(_error("int_parsing", loc, _INT_PARSING, value))
                return INVALID
            number = parsed
        else:
            errors.append(_error("int_type", loc, _INT_TYPE, value))
            return INVALID
        problem = self._bounds(number, value, loc)
        if problem is not None:
            errors.append(problem)
            return INVALID
        return number

    def _bounds(self, number: int, value: Any, loc: Loc) -> ErrorDict | None:
        if self.gt is not None and not number > self.gt:
            return _error(
                "greater_than",
                loc,
                f"Input should be greater than {self.gt}",
                value,
                {"gt": self.gt},
            )
        if self.ge is not None and not number >= self.ge:
            return _error(
                "greater_than_equal",
                loc,
                f"Input should be greater than or equal to {self.ge}",
                value,
                {"ge": self.ge},
            )
        if self.lt is not None and not number < self.lt:
            return _error(
                "less_than", loc, f"Input should be less than {self.lt}", value, {"lt": self.lt}
            )
        if self.le is not None and not number <= self.le:
            return _error(
                "less_than_equal",
                loc,
                f"Input should be less than or equal to {self.le}",
                value,
                {"le": self.le},
            )
        return None

    def openapi(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": OpenAPIType.INTEGER}
        if self.ge is not None:
            schema["minimum"] = self.ge
        if self.le is not None:
            schema["maximum"] = self.le
        if self.gt is not None:
            schema["exclusive_minimum"] = self.gt
        if self.lt is not None:
            schema["exclusive_maximum"] = self.lt
        return schema


class _BoolNode(_Node):
    __slots__ = ()

    def check(self, value: Any, loc: Loc, errors: list[ErrorDict]) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            word = value.lower()
            if word in _TRUE_WORDS:
                return True
            if word in _FALSE_WORDS:
                return False
        elif isinstance(value, int | float):
            if value == 1:
                return True
            if value == 0:
                return False
        else:
            errors.append(_error("bool_type", loc, _BOOL_TYPE, value))
            return INVALID
        errors.append(_error("bool_parsing", loc, _BOOL_PARSING, value))
        return INVALID

    def openapi(self) -> dict[str, Any]:
        # Query values are text anyway: `true`/`false` is what clients send (the other words
        # of `_LAX_BOOL` are accepted as well). Bodies document the lax forms in full.
        return {"type": OpenAPIType.BOOLEAN}


class _LiteralNode(_Node):
    __slots__ = ("expected", "values")

    def __init__(self, values: tuple[Any, ...]) -> None:
        self.values = values
        self.expected = _expected_text(values)

    def check(self, value: Any, loc: Loc, errors: list[ErrorDict]) -> Any:
        for allowed in self.values:
            if type(value) is type(allowed) and value == allowed:
                return allowed
        errors.append(
            _error(
                "literal_error",
                loc,
                f"Input should be {self.expected}",
                value,
                {"expected": self.expected},
            )
        )
        return INVALID

    def openapi(self) -> dict[str, Any]:
        if all(isinstance(v, str) for v in self.values):
            return {"type": OpenAPIType.STRING, "enum": list(self.values)}
        return {"enum": list(self.values)}


class _DateNode(_Node):
    __slots__ = ()

    def check(self, value: Any, loc: Loc, errors: list[ErrorDict]) -> Any:
        if isinstance(value, str):
            try:
                return _parse_date_exact(value)
            except _DateParseError:
                pass
            try:
                moment = _parse_datetime(value)
            except _DateParseError as exc:
                errors.append(self._parsing(loc, value, exc.reason))
                return INVALID
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(value, float) and not value.is_integer():
                # A fraction of a second (even 1e-42, which rounds to midnight) is a time.
                errors.append(_error("date_from_datetime_inexact", loc, _DATE_INEXACT, value))
                return INVALID
            try:
                moment = _from_timestamp(value)
            except _DateParseError as exc:
                errors.append(self._parsing(loc, value, exc.reason))
                return INVALID
        else:
            errors.append(_error("date_type", loc, _DATE_TYPE, value))
            return INVALID
        if not _is_midnight(moment):
            errors.append(_error("date_from_datetime_inexact", loc, _DATE_INEXACT, value))
            return INVALID
        return moment.date()

    @staticmethod
    def _parsing(loc: Loc, value: Any, reason: str) -> ErrorDict:
        return _error(
            "date_from_datetime_parsing",
            loc,
            f"Input should be a valid date or datetime, {reason}",
            value,
            {"error": reason},
        )

    def openapi(self) -> dict[str, Any]:
        return {"any_of": [Schema(**_schema_kwargs(part)) for part in _LAX_DATE["anyOf"]]}


class _DateTimeNode(_Node):
    __slots__ = ()

    def check(self, value: Any, loc: Loc, errors: list[ErrorDict]) -> Any:
        if isinstance(value, str):
            try:
                return _parse_datetime(value)
            except _DateParseError as exc:
                try:
                    return dt.datetime.combine(_parse_date_exact(value), dt.time())
                except _DateParseError:
                    errors.append(self._parsing(loc, value, exc.reason))
                    return INVALID
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                return _from_timestamp(value)
            except _DateParseError as exc:
                errors.append(self._parsing(loc, value, exc.reason))
                return INVALID
        errors.append(_error("datetime_type", loc, _DATETIME_TYPE, value))
        return INVALID

    @staticmethod
    def _parsing(loc: Loc, value: Any, reason: str) -> ErrorDict:
        return _error(
            "datetime_from_date_parsing",
            loc,
            f"Input should be a valid datetime or date, {reason}",
            value,
            {"error": reason},
        )

    def openapi(self) -> dict[str, Any]:
        return {"any_of": [Schema(**_schema_kwargs(part)) for part in _LAX_DATETIME["anyOf"]]}


class _NullableNode(_Node):
    __slots__ = ("inner",)

    def __init__(self, inner: _Node) -> None:
        self.inner = inner

    def check(self, value: Any, loc: Loc, errors: list[ErrorDict]) -> Any:
        if value is None:
            return None
        return self.inner.check(value, loc, errors)

    def openapi(self) -> dict[str, Any]:
        return self.inner.openapi()


class _ListNode(_Node):
    __slots__ = ("item", "max_length", "min_length")

    def __init__(self, item: _Node, min_length: int | None, max_length: int | None) -> None:
        self.item = item
        self.min_length = min_length
        self.max_length = max_length

    def check(self, value: Any, loc: Loc, errors: list[ErrorDict]) -> Any:
        if not isinstance(value, list):
            errors.append(_error("list_type", loc, _LIST_TYPE, value))
            return INVALID
        before = len(errors)
        items = [self.item.check(item, (*loc, index), errors) for index, item in enumerate(value)]
        if len(errors) != before:
            return INVALID
        size = len(items)
        if self.min_length is not None and size < self.min_length:
            n = self.min_length
            errors.append(
                _error(
                    "too_short",
                    loc,
                    f"List should have at least {n} {_plural(n, 'item')} after validation, "
                    f"not {size}",
                    value,
                    {"field_type": "List", "min_length": n, "actual_length": size},
                )
            )
            return INVALID
        if self.max_length is not None and size > self.max_length:
            n = self.max_length
            errors.append(
                _error(
                    "too_long",
                    loc,
                    f"List should have at most {n} {_plural(n, 'item')} after validation, "
                    f"not {size}",
                    value,
                    {"field_type": "List", "max_length": n, "actual_length": size},
                )
            )
            return INVALID
        return items


@dataclasses.dataclass(frozen=True, slots=True)
class _FieldPlan:
    name: str
    wire: str
    node: _Node
    required: bool
    default: Any


class _StructNode(_Node):
    __slots__ = ("cls", "fields")

    def __init__(self, cls: type[Any], fields: tuple[_FieldPlan, ...]) -> None:
        self.cls = cls
        self.fields = fields

    def check(self, value: Any, loc: Loc, errors: list[ErrorDict]) -> Any:
        if not isinstance(value, dict):
            errors.append(_error("model_attributes_type", loc, _MODEL_TYPE, value))
            return INVALID
        values: dict[str, Any] = {}
        failed = False
        for field in self.fields:
            if field.wire in value:
                result = field.node.check(value[field.wire], (*loc, field.wire), errors)
                if result is INVALID:
                    failed = True
                else:
                    values[field.name] = result
            elif field.required:
                errors.append(missing_error((*loc, field.wire), value))
                failed = True
        if failed:
            return INVALID
        try:
            return self.cls(**values)
        except (TypeError, ValueError) as exc:  # a struct's own __post_init__ rule
            errors.append(value_error(loc, str(exc), value))
            return INVALID


def _literals(annotation: Any) -> Iterable[tuple[Any, ...]]:
    if typing.get_origin(annotation) is Literal:
        yield typing.get_args(annotation)
    for arg in typing.get_args(annotation):
        if not isinstance(arg, msgspec.Meta | str | int | bool):
            yield from _literals(arg)


def _declared_order(values: tuple[Any, ...], annotation: Any) -> tuple[Any, ...]:
    # msgspec.inspect sorts literal values; pydantic's message lists them as declared.
    wanted = set(values)
    for candidate in _literals(annotation):
        if set(candidate) == wanted:
            return candidate
    return values


def _compile(
    info: mi.Type, annotation: Any = None, strip: bool = False, text: str | None = None
) -> _Node:
    if isinstance(info, mi.Metadata):
        extra = info.extra or {}
        return _compile(
            info.type,
            annotation,
            strip=bool(extra.get("strip", strip)),
            text=extra.get("text", text),
        )
    if isinstance(info, mi.StrType):
        return _StrNode(info.min_length, info.max_length, info.pattern, strip, text)
    if isinstance(info, mi.BoolType):
        return _BoolNode()
    if isinstance(info, mi.IntType):
        return _IntNode(info)
    if isinstance(info, mi.LiteralType):
        return _LiteralNode(_declared_order(tuple(info.values), annotation))
    if isinstance(info, mi.DateType):
        return _DateNode()
    if isinstance(info, mi.DateTimeType):
        return _DateTimeNode()
    if isinstance(info, mi.ListType):
        return _ListNode(_compile(info.item_type, annotation), info.min_length, info.max_length)
    if isinstance(info, mi.StructType):
        declared = {f.name: f.type for f in msgspec.structs.fields(info.cls)}
        return _StructNode(
            info.cls,
            tuple(
                _FieldPlan(
                    f.name,
                    f.encode_name,
                    _compile(f.type, declared.get(f.name)),
                    f.required,
                    f.default,
                )
                for f in info.fields
            ),
        )
    if isinstance(info, mi.UnionType):
        others = [t for t in info.types if not isinstance(t, mi.NoneType)]
        if len(others) == 1 and len(info.types) == 2:
            return _NullableNode(_compile(others[0], annotation, strip, text))
        raise TypeError(f"unsupported union in a request shape: {info}")
    if isinstance(info, mi.AnyType):
        return _AnyNode()
    raise TypeError(f"unsupported type in a request shape: {info}")


# --- The fast path's strip step ----------------------------------------------------------------


class _SlowPath(Exception):
    """A trimmed string broke its length rule: let the walker report it with the others."""


_Fixup = Callable[[Any], Any]


def _compile_fixup(node: _Node) -> _Fixup | None:
    if isinstance(node, _StrNode):
        if not node.strip and node.multiline is None:
            return None
        low = node.min_length or 0
        high = node.max_length
        pattern = node.pattern
        strip = node.strip
        multiline = node.multiline

        def fix_str(value: Any) -> Any:
            text = value.strip() if strip else value
            size = len(text)
            if (
                size < low
                or (high is not None and size > high)
                or (pattern is not None and not pattern.search(text))
                or (
                    multiline is not None
                    and control_character_problem(value, multiline=multiline) is not None
                )
            ):
                raise _SlowPath
            return text

        return fix_str
    if isinstance(node, _NullableNode):
        inner = _compile_fixup(node.inner)
        if inner is None:
            return None
        nullable_inner = inner

        def fix_nullable(value: Any) -> Any:
            return None if value is None else nullable_inner(value)

        return fix_nullable
    if isinstance(node, _ListNode):
        item = _compile_fixup(node.item)
        if item is None:
            return None
        list_item = item

        def fix_list(value: Any) -> Any:
            return [list_item(v) for v in value]

        return fix_list
    if isinstance(node, _StructNode):
        steps = [
            (field.name, fixup)
            for field in node.fields
            if (fixup := _compile_fixup(field.node)) is not None
        ]
        if not steps:
            return None

        unset = msgspec.UNSET
        force_setattr = msgspec.structs.force_setattr

        def fix_struct(value: Any) -> Any:
            for name, fixup in steps:
                current = getattr(value, name)
                if current is not unset:
                    fixed = fixup(current)
                    if fixed is not current:  # str.strip() returns the same object if clean
                        force_setattr(value, name, fixed)
            return value

        return fix_struct
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    node: _Node
    decoder: msgspec.json.Decoder[Any]
    fixup: _Fixup | None


_PLANS: dict[Any, _Plan] = {}


def _plan_for(target: Any) -> _Plan:
    plan = _PLANS.get(target)
    if plan is None:
        node = _compile(mi.type_info(target), target)
        plan = _Plan(node, msgspec.json.Decoder(target, strict=True), _compile_fixup(node))
        _PLANS[target] = plan
    return plan


# --- Bodies -----------------------------------------------------------------------------------


def is_json_content_type(value: str | bytes | None) -> bool:
    """FastAPI's rule: no Content-Type, `application/json` or `application/*+json` is JSON."""
    if not value:
        return True
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    media = text.split(";", 1)[0].strip().lower()
    maintype, _, subtype = media.partition("/")
    return maintype == "application" and (subtype == "json" or subtype.endswith("+json"))


def _json_error(position: int, reason: str) -> RequestValidationError:
    return RequestValidationError(
        [_error("json_invalid", ("body", position), "JSON decode error", {}, {"error": reason})]
    )


_TOO_DEEP: Final = "Maximum nesting depth exceeded"
# msgspec raises these besides DecodeError: invalid UTF-8 inside a string, and a nesting deeper
# than the interpreter's recursion limit.
_DECODE_FAILURES: Final = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


def _stdlib_json(raw: bytes) -> Any:
    """Parse with the stdlib (what the original did): it accepts a few inputs msgspec refuses
    (a lone `\\ud800` escape), and its errors give the message and offset to quote."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _json_error(exc.pos, exc.msg) from None
    except UnicodeDecodeError as exc:
        raise _json_error(exc.start, "Invalid UTF-8") from None
    except RecursionError:
        raise _json_error(0, _TOO_DEEP) from None
    except ValueError:
        raise _json_error(0, "Invalid JSON") from None


def _decode_any(raw: bytes) -> Any:
    """The body as plain JSON values, or the 422 saying why it is not acceptable JSON."""
    try:
        data = msgspec.json.decode(raw)
    except RecursionError:
        raise _json_error(0, _TOO_DEEP) from None
    except (msgspec.DecodeError, UnicodeDecodeError):
        data = _stdlib_json(raw)
    if _deeper_than(data, MAX_JSON_DEPTH):
        raise _json_error(0, _TOO_DEEP)
    return data


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether containers nest more than `limit` levels (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Iterable[Any] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def decode_body(target: type[T], raw: bytes, *, json_content: bool = True) -> T:
    """Decode and validate a request body into `target` (a Struct, or e.g. `list[str]`).

    `json_content=False` (the request's Content-Type is not JSON) makes the body a plain
    string, which fails the type check as the original did. Raises `RequestValidationError`.
    """
    plan = _plan_for(target)
    data: Any
    if json_content:
        if not raw.isascii():
            # msgspec checks UTF-8 only where it decodes; an ignored key could still hide
            # invalid bytes. A body that is not UTF-8 is not JSON (RFC 8259 §8.1).
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _json_error(exc.start, "Invalid UTF-8") from None
        # A `\\u` escape may spell a NUL or a lone surrogate, which only the walker refuses;
        # clients send non-ASCII text raw, so the fast path still takes nearly every body.
        if b"\\u" not in raw:
            try:
                value = plan.decoder.decode(raw)
            except _DECODE_FAILURES:
                pass
            else:
                if plan.fixup is None:
                    return cast(T, value)
                try:
                    return cast(T, plan.fixup(value))
                except _SlowPath:
                    pass
        data = _decode_any(raw) if raw.strip() else None
    else:
        data = raw.decode("utf-8", "replace") if raw else None
    if data is None and not isinstance(plan.node, _NullableNode):
        raise RequestValidationError([missing_error(("body",), None)])
    errors: list[ErrorDict] = []
    result = plan.node.check(data, ("body",), errors)
    if errors:
        raise RequestValidationError(errors)
    return cast(T, result)


# --- Query strings ------------------------------------------------------------------------------


QueryInput = Mapping[str, str] | Iterable[tuple[str, str]] | bytes | str


def _unquote(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    return unquote(text) if "%" in text else text


def _parse_query_string(text: str) -> dict[str, str]:
    # `parse_qsl(keep_blank_values=True)` semantics without its per-call overhead (~4x).
    values: dict[str, str] = {}
    for pair in text.split("&"):
        if pair:
            key, _, value = pair.partition("=")
            values[_unquote(key)] = _unquote(value)
    return values


def _last_values(params: QueryInput) -> Mapping[str, str]:
    if isinstance(params, bytes | str):
        return _parse_query_string(
            params.decode("latin-1") if isinstance(params, bytes) else params
        )
    if isinstance(params, Mapping):
        # A MultiDict's items() yields every pair in order, so dict() keeps the last one.
        items = getattr(params, "multi_items", None)
        return dict(items()) if callable(items) else params
    return dict(params)


def parse_query(target: type[T], params: QueryInput) -> T:
    """Validate query parameters into the Struct `target`; the last repeated key wins.

    `params` may be the raw `scope["query_string"]` (bytes; blank values kept, as the original
    did, so `limit=` is a 422 rather than the default), a Litestar `MultiDict`, a plain mapping
    or a list of pairs. Raises `RequestValidationError` with `loc ["query", name]`.
    """
    node = _plan_for(target).node
    if not isinstance(node, _StructNode):
        raise TypeError("a query set must be a msgspec.Struct")
    values = _last_values(params)
    errors: list[ErrorDict] = []
    kwargs: dict[str, Any] = {}
    for field in node.fields:
        raw = values.get(field.wire)
        if raw is None:
            if field.required:
                errors.append(missing_error(("query", field.wire), None))
            continue
        result = field.node.check(raw, ("query", field.wire), errors)
        if result is not INVALID:
            kwargs[field.name] = result
    if errors:
        raise RequestValidationError(errors)
    return cast(T, node.cls(**kwargs))


# --- Path parameters ----------------------------------------------------------------------------


IntPath = Annotated[str, Parameter(schema_extra={"type": OpenAPIType.INTEGER})]
"""A path id routed as `{name:str}` and read with `path_int`; documented as an integer."""


# A path id is plain decimal digits: `1.0`, `+1`, ` 1` or `1_0` are not another spelling of a
# resource's address (one resource, one URL; caches and logs key on the path).
_PATH_ID: Final = re.compile(r"-?[0-9]{1,4300}")


def path_int(name: str, raw: str, *, not_found: Callable[[int], Exception] | None = None) -> int:
    """Parse a path id: 422 `int_parsing` when it is not plain decimal digits.

    Ids outside the 32-bit serial range cannot exist; they raise `not_found(value)` (e.g.
    `TaskNotFound`) or a plain 404 instead of overflowing in the database.
    """
    if not _PATH_ID.fullmatch(raw):
        raise RequestValidationError([_error("int_parsing", ("path", name), _INT_PARSING, raw)])
    value = int(raw)
    if not INT32_MIN <= value <= INT32_MAX:
        raise not_found(value) if not_found is not None else NotFound("Not Found")
    return value


def unparsable_path_params(app: Litestar, path: str) -> list[ErrorDict]:
    """The 422 items for a path whose typed segment (`{task_id:int}`) did not parse.

    Litestar answers such a path with a plain 404 raised from the parser's ValueError; this
    finds the route the path was meant for and names the segments that failed. Only called on
    that error path.
    """
    segments = [segment for segment in path.split("/") if segment]
    for route in app.routes:
        components = route.path_components
        if len(components) != len(segments):
            continue
        errors: list[ErrorDict] = []
        for component, segment in zip(components, segments, strict=True):
            if isinstance(component, str):
                if component != segment:
                    break
                continue
            if component.parser is None:
                continue
            try:
                component.parser(segment)
            except (ValueError, TypeError):
                if component.type is int:
                    errors.append(
                        _error("int_parsing", ("path", component.name), _INT_PARSING, segment)
                    )
                else:
                    errors.append(value_error(("path", component.name), "invalid value", segment))
        else:
            if errors:
                return errors
    return []


def int32_path_guard(
    not_found: Mapping[str, Callable[[int], Exception]] | None = None,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]:
    """A guard turning `{x:int}` ids outside the 32-bit serial range into the route's 404.

    Such ids cannot exist, and PostgreSQL would reject them as out of range (a 500).
    `not_found` maps a parameter name to its 404 (default: `task_id` → `TaskNotFound`, the
    Family-A body every task route answers); other names answer `{"detail": "Not Found"}`.
    List it after the authentication guard so 401 still comes first.
    """
    mapping: Mapping[str, Callable[[int], Exception]] = (
        not_found if not_found is not None else {"task_id": TaskNotFound}
    )

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        for name, value in connection.path_params.items():
            if isinstance(value, int) and not INT32_MIN <= value <= INT32_MAX:
                factory = mapping.get(name)
                raise factory(value) if factory is not None else NotFound("Not Found")

    return guard


# --- Litestar integration ----------------------------------------------------------------------


_VALIDATION_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["detail", "errors"],
    "properties": {
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "loc", "msg", "input"],
                "properties": {
                    "type": {"type": "string"},
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "input": {},
                    "ctx": {"type": "object"},
                },
            },
        },
    },
}


def _all_literals(annotation: Any, seen: set[Any]) -> Iterable[tuple[Any, ...]]:
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        if annotation in seen:
            return
        seen.add(annotation)
        for field in msgspec.structs.fields(annotation):
            yield from _all_literals(field.type, seen)
        return
    if typing.get_origin(annotation) is Literal:
        yield typing.get_args(annotation)
        return
    for arg in typing.get_args(annotation):
        yield from _all_literals(arg, seen)


def _inline_refs(schema: Any, defs: Mapping[str, Any], literals: list[tuple[Any, ...]]) -> Any:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline_refs(defs[ref.removeprefix("#/$defs/")], defs, literals)
        inlined = {k: _inline_refs(v, defs, literals) for k, v in schema.items() if k != "$defs"}
        if isinstance(enum := inlined.get("enum"), list):
            # msgspec sorts enum values; show them in the declared order.
            wanted = set(enum)
            inlined["enum"] = list(next((lit for lit in literals if set(lit) == wanted), enum))
        return inlined
    if isinstance(schema, list):
        return [_inline_refs(v, defs, literals) for v in schema]
    return schema


def body_schema(target: Any) -> dict[str, Any]:
    """The JSON schema of a request shape, self-contained (msgspec's, nested refs inlined)."""
    schema = msgspec.json.schema(target)
    literals = list(_all_literals(target, set()))
    inlined: dict[str, Any] = _lax(_inline_refs(schema, schema.get("$defs", {}), literals))
    return inlined


def query_parameters(target: Any) -> list[OpenAPIParameter]:
    """OpenAPI query parameters for a query Struct, typed from the same plan that parses them."""
    node = _plan_for(target).node
    if not isinstance(node, _StructNode):
        raise TypeError("a query set must be a msgspec.Struct")
    parameters = []
    for field in node.fields:
        schema_kwargs = field.node.openapi()
        if field.default is not msgspec.NODEFAULT and field.default is not None:
            schema_kwargs["default"] = field.default
        parameters.append(
            OpenAPIParameter(
                name=field.wire,
                param_in=ParamType.QUERY,
                required=field.required,
                schema=Schema(**schema_kwargs),
            )
        )
    return parameters


def _is_litestar_validation(response: OpenAPIResponse | Reference) -> bool:
    if not isinstance(response, OpenAPIResponse) or not response.content:
        return False
    for media in response.content.values():
        schema = media.schema
        if isinstance(schema, Schema) and schema.description == "Validation Exception":
            return True
        if isinstance(schema, Schema) and schema.one_of:
            schema.one_of = [
                s
                for s in schema.one_of
                if not (isinstance(s, Schema) and s.description == "Validation Exception")
            ]
    return False


def _operation_class(
    body: Any, query: Any, finish: Callable[[Operation], None] | None = None
) -> type[Operation]:
    body_doc = body_schema(body) if body is not None else None
    query_doc = query_parameters(query) if query is not None else []

    @dataclasses.dataclass
    class ValidatedOperation(Operation):
        def __post_init__(self) -> None:
            validated = bool(body_doc or query_doc or self.parameters or self.request_body)
            if body_doc is not None and self.request_body is None:
                self.request_body = RequestBody(
                    required=True,
                    content={"application/json": OpenAPIMediaType(schema=cast(Schema, body_doc))},
                )
            if query_doc:
                existing = {
                    p.name for p in self.parameters or [] if isinstance(p, OpenAPIParameter)
                }
                self.parameters = [
                    *(self.parameters or []),
                    *(p for p in query_doc if p.name not in existing),
                ]
            if self.responses is not None:
                stale = self.responses.get("400")
                if stale is not None and _is_litestar_validation(stale):
                    del self.responses["400"]
                if validated:
                    self.responses["422"] = OpenAPIResponse(
                        description="Validation error",
                        content={
                            "application/json": OpenAPIMediaType(
                                schema=cast(Schema, _VALIDATION_SCHEMA)
                            )
                        },
                    )
            if finish is not None:
                finish(self)

    return ValidatedOperation


class _BodyDTO(AbstractDTO[Any]):
    """Lets `data: Shape` handlers use `decode_body` instead of Litestar's 400-answering parse."""

    __slots__ = ()
    target: Any = None

    def decode_bytes(self, value: bytes) -> Any:
        content_type = None
        for key, header in self.asgi_connection.scope["headers"]:
            if key == b"content-type":
                content_type = header
                break
        return decode_body(self.target, value, json_content=is_json_content_type(content_type))

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        errors: list[ErrorDict] = []
        result = _plan_for(self.target).node.check(value, ("body",), errors)
        if errors:
            raise RequestValidationError(errors)
        return result

    @classmethod
    def generate_field_definitions(
        cls, model_type: type[Any]
    ) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    @classmethod
    def is_supported_model_type_field(cls, field_definition: FieldDefinition) -> bool:
        return False  # never used for responses

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        return None  # no transfer models: decode_body does the work

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: SchemaCreator
    ) -> Reference | Schema:
        return schema_creator.for_field_definition(field_definition)

    def data_to_encodable_type(self, data: Any | Collection[Any]) -> Any:
        return data


_DTOS: dict[Any, type[_BodyDTO]] = {}
_FORM_TYPES: Final = frozenset({RequestEncodingType.MULTI_PART, RequestEncodingType.URL_ENCODED})


def _dto_for(target: Any) -> type[_BodyDTO]:
    dto = _DTOS.get(target)
    if dto is None:
        _plan_for(target)  # fail at start-up, not on the first request, if unsupported
        dto = type(
            f"BodyDTO[{getattr(target, '__name__', target)}]",
            (_BodyDTO,),
            {"target": target, "model_type": target, "config": DTOConfig()},
        )
        _DTOS[target] = dto
    return dto


class ValidationPlugin(SerializationPlugin, ReceiveRoutePlugin):
    """Install once on the app: `Litestar(..., plugins=[ValidationPlugin(auth_guard)])`.

    Documents `body=` / `query=` declared on route decorators and the 422 answer; gives
    `data: Shape` parameters the contract's decoder. With `auth_guard` (the guard that
    authenticates), every operation also gets the error answers, security requirement and
    upload bodies of `openapi.py`; operations behind that guard are marked as protected.
    """

    def __init__(self, auth_guard: Callable[..., Any] | None = None) -> None:
        self._auth_guard = auth_guard

    def supports_type(self, field_definition: FieldDefinition) -> bool:
        if field_definition.name != "data" or field_definition.annotation in (bytes, str):
            return False
        kwarg = field_definition.kwarg_definition
        return not (isinstance(kwarg, BodyKwarg) and kwarg.media_type in _FORM_TYPES)

    def create_dto_for_type(self, field_definition: FieldDefinition) -> type[AbstractDTO[Any]]:
        return _dto_for(field_definition.annotation)

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            if handler.operation_class is Operation:
                handler.operation_class = _operation_class(
                    handler.opt.get("body"),
                    handler.opt.get("query"),
                    self._finisher(route, handler),
                )

    def _finisher(
        self, route: HTTPRoute, handler: HTTPRouteHandler
    ) -> Callable[[Operation], None] | None:
        if self._auth_guard is None or not handler.include_in_schema:
            return None
        # Each FAROS handler serves one method; a multi-method handler shares one table row.
        key = route_key(sorted(handler.http_methods)[0], route.path)
        protected = self._auth_guard in handler.resolve_guards()

        def finish(operation: Operation) -> None:
            document_operation(operation, key, protected=protected)

        return finish


def litestar_validation_errors(exc: ValidationException) -> list[ErrorDict]:
    """Best-effort 422 items for a 400 Litestar raised itself (e.g. a missing `data` body)."""
    errors: list[ErrorDict] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        key = item.get("key")
        source = str(item.get("source") or "query")
        message = str(item.get("message", ""))
        if key == "data" and ("'data'" in message or "missing" in message.lower()):
            errors.append(missing_error(("body",), None))
            continue
        loc: Loc = (source, *str(key).split(".")) if key else (source,)
        errors.append(value_error(loc, message, None))
    if not errors:
        detail = exc.detail or "Invalid request"
        source = next((s for s in ("query", "header", "cookie", "path") if s in detail), "body")
        errors.append(value_error((source,), detail, None))
    return errors

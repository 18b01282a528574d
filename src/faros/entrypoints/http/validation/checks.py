"""Checks a value against the type a request shape declares, collecting every 422 item.

msgspec decodes valid bodies in C but stops at the first error; the contract wants them all.
`compile_check` turns a declared type into a checker that walks a decoded value and names each
offending field. Query strings use the same checkers in `query` mode: their values are text
whatever the declared type, so integers and booleans are read from words there.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import UnsetType

from faros.domain.text import control_character_problem
from faros.entrypoints.http.validation.errors import (
    INT_PARSING,
    ErrorDict,
    Loc,
    error,
    missing_error,
    value_error,
)

Errors = list[ErrorDict]
INVALID: Final = object()
"""What a checker returns for a value it reported; its parent is then not built."""

# What the contract lists for query booleans (§1.7); JSON bodies take JSON booleans only.
_QUERY_BOOLS: Final = dict.fromkeys(("1", "on", "t", "true", "y", "yes"), True) | dict.fromkeys(
    ("0", "off", "f", "false", "n", "no"), False
)
_INT_TEXT: Final = re.compile("-?[0-9]{1,18}")
_DATE_TEXT: Final = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
# The type/msg pairs of §1.7; `{…}` is filled from the item's ctx.
_MESSAGES: Final = {
    "string_type": "Input should be a valid string",
    "string_too_short": "String should have at least {min_length} character{s}",
    "string_too_long": "String should have at most {max_length} character{s}",
    "string_pattern_mismatch": "String should match pattern '{pattern}'",
    "int_type": "Input should be a valid integer",
    "int_parsing": INT_PARSING,
    "greater_than_equal": "Input should be greater than or equal to {ge}",
    "less_than_equal": "Input should be less than or equal to {le}",
    "bool_type": "Input should be a valid boolean",
    "bool_parsing": "Input should be a valid boolean, unable to interpret input",
    "literal_error": "Input should be {expected}",
    "date_type": "Input should be a valid date",
    "date_from_datetime_parsing": "Input should be a valid date or datetime, {error}",
    "date_from_datetime_inexact": (
        "Datetimes provided to dates should have zero time - e.g. be exact dates"
    ),
    "datetime_type": "Input should be a valid datetime",
    "datetime_from_date_parsing": "Input should be a valid datetime or date, {error}",
    "list_type": "Input should be a valid list",
    "too_short": "List should have at least {min_length} item{s} after validation, not {actual}",
    "too_long": "List should have at most {max_length} item{s} after validation, not {actual}",
    "model_attributes_type": "Input should be a valid dictionary or object to extract fields from",
}


class NeedsFullCheck(Exception):
    """A decoded string broke a rule msgspec cannot state (trimming, control characters)."""


Check = Callable[[Any, Loc, Errors], Any]
Fixup = Callable[[Any], Any]


def _fail(
    errors: Errors, kind: str, loc: Loc, value: Any, ctx: dict[str, Any] | None = None
) -> object:
    """Report `kind` for `value`, its `msg` filled from `ctx`, and mark the value invalid."""
    fill = ctx or {}
    count = fill.get("min_length", fill.get("max_length", 1))
    msg = _MESSAGES[kind].format(**fill, s="s" * (count != 1), actual=fill.get("actual_length"))
    errors.append(error(kind, loc, msg, value, ctx))
    return INVALID


def _refuse(errors: Errors, loc: Loc, reason: str, value: Any) -> object:
    errors.append(value_error(loc, reason, value))
    return INVALID


class Text:
    """A string: storable (no NUL, no lone surrogate), the domain's control-character rule
    (`extra={"text": "one_line" | "multiline"}`), trimmed if `extra={"strip": True}`, then
    length and pattern checked on the trimmed text; errors quote the text as sent."""

    def __init__(self, meta: msgspec.Meta) -> None:
        extra = meta.extra or {}
        self.strip = bool(extra.get("strip"))
        self.multiline = None if "text" not in extra else extra["text"] == "multiline"
        # A trimmed field's maximum is in `extra`: in the Meta, msgspec would put it in the
        # document as `maxLength`, which counts the untrimmed value.
        self.low, self.high = meta.min_length, extra.get("max_length", meta.max_length)
        self.pattern = re.compile(meta.pattern) if meta.pattern is not None else None

    def __call__(self, value: Any, loc: Loc, errors: Errors) -> Any:
        if not isinstance(value, str):
            return _fail(errors, "string_type", loc, value)
        # PostgreSQL text cannot hold NUL, nor UTF-8 a lone surrogate (a `\ud800` escape).
        if "\x00" in value:
            return _refuse(errors, loc, "String must not contain NUL characters", value)
        if _SURROGATE.search(value):
            return _refuse(
                errors, loc, "String must not contain unpaired surrogate characters", value
            )
        if self.multiline is not None:
            reason = control_character_problem(value, multiline=self.multiline)
            if reason is not None:
                return _refuse(errors, loc, reason, value)
        text = value.strip() if self.strip else value
        if self.low is not None and len(text) < self.low:
            return _fail(errors, "string_too_short", loc, value, {"min_length": self.low})
        if self.high is not None and len(text) > self.high:
            return _fail(errors, "string_too_long", loc, value, {"max_length": self.high})
        if self.pattern is not None and not self.pattern.search(text):
            ctx = {"pattern": self.pattern.pattern}
            return _fail(errors, "string_pattern_mismatch", loc, value, ctx)
        return text

    def fixup(self) -> Fixup | None:
        """The rules msgspec did not apply; its fast path never yields NUL or surrogates
        (they arrive only as `\\u` escapes, which `decode_body` sends to the full check)."""
        if not self.strip and self.multiline is None:
            return None
        strip, multiline, pattern = self.strip, self.multiline, self.pattern
        low, high = self.low or 0, self.high if self.high is not None else sys.maxsize

        def fix(value: str) -> str:
            text = value.strip() if strip else value
            if (
                not low <= len(text) <= high
                or (pattern is not None and not pattern.search(text))
                or (
                    multiline is not None
                    and control_character_problem(value, multiline=multiline) is not None
                )
            ):
                raise NeedsFullCheck
            return text

        return fix


def _integer(meta: msgspec.Meta, query: bool) -> Check:
    low, high = meta.ge, meta.le

    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if isinstance(value, str) and query and _INT_TEXT.fullmatch(value):
            number = int(value)
        elif isinstance(value, str):
            return _fail(errors, "int_parsing", loc, value)
        elif type(value) is int:
            number = value
        elif type(value) is float and value.is_integer() and not query:
            # JSON Schema's `integer` (what the document says) is any number with a zero
            # fractional part, so `3.0` is one; `3.5` is not.
            number = int(value)
        else:
            return _fail(errors, "int_type", loc, value)
        if low is not None and number < low:
            return _fail(errors, "greater_than_equal", loc, value, {"ge": low})
        if high is not None and number > high:
            return _fail(errors, "less_than_equal", loc, value, {"le": high})
        return number

    return check


def _boolean(query: bool) -> Check:
    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if isinstance(value, bool):
            return value
        if query and isinstance(value, str) and value.lower() in _QUERY_BOOLS:
            return _QUERY_BOOLS[value.lower()]
        kind = "bool_parsing" if isinstance(value, str | int | float) else "bool_type"
        return _fail(errors, kind, loc, value)

    return check


def _literal(values: tuple[Any, ...]) -> Check:
    shown = [repr(v) for v in values]
    expected = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"

    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        for allowed in values:
            if type(value) is type(allowed) and value == allowed:
                return allowed
        return _fail(errors, "literal_error", loc, value, {"expected": expected})

    return check


def _date(value: Any, loc: Loc, errors: Errors) -> Any:
    """`YYYY-MM-DD`, or a datetime at exactly midnight (§1.2)."""
    if not isinstance(value, str):
        return _fail(errors, "date_type", loc, value)
    try:
        if _DATE_TEXT.fullmatch(value):
            return dt.date.fromisoformat(value)
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        return _fail(errors, "date_from_datetime_parsing", loc, value, {"error": str(exc)})
    if moment.time() != dt.time():
        return _fail(errors, "date_from_datetime_inexact", loc, value)
    return moment.date()


def _datetime(value: Any, loc: Loc, errors: Errors) -> Any:
    if not isinstance(value, str):
        return _fail(errors, "datetime_type", loc, value)
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError as exc:
        problem = exc
    # The document's `date-time` is RFC 3339's, whose `T` and `Z` may be written in lower case.
    if "t" in value or "z" in value:
        try:
            return dt.datetime.fromisoformat(value.upper())
        except ValueError:
            pass
    return _fail(errors, "datetime_from_date_parsing", loc, value, {"error": str(problem)})


class Nullable:
    def __init__(self, inner: Check) -> None:
        self.inner = inner

    def __call__(self, value: Any, loc: Loc, errors: Errors) -> Any:
        return None if value is None else self.inner(value, loc, errors)

    def fixup(self) -> Fixup | None:
        inner = fixup_of(self.inner)
        return None if inner is None else (lambda value: None if value is None else inner(value))


class ListOf:
    def __init__(self, item: Check, meta: msgspec.Meta) -> None:
        self.item, self.low, self.high = item, meta.min_length, meta.max_length

    def __call__(self, value: Any, loc: Loc, errors: Errors) -> Any:
        if not isinstance(value, list):
            return _fail(errors, "list_type", loc, value)
        before = len(errors)
        items = [self.item(item, (*loc, index), errors) for index, item in enumerate(value)]
        if len(errors) != before:
            return INVALID
        size = {"actual_length": len(items)}
        if self.low is not None and len(items) < self.low:
            ctx = {"field_type": "List", "min_length": self.low, **size}
            return _fail(errors, "too_short", loc, value, ctx)
        if self.high is not None and len(items) > self.high:
            ctx = {"field_type": "List", "max_length": self.high, **size}
            return _fail(errors, "too_long", loc, value, ctx)
        return items

    def fixup(self) -> Fixup | None:
        item = fixup_of(self.item)
        return None if item is None else (lambda value: [item(v) for v in value])


class Fields:
    """A Struct read from a JSON object (or a query string's pairs): unknown keys ignored."""

    def __init__(self, cls: type[msgspec.Struct], query: bool) -> None:
        self.cls = cls
        self.fields = [
            (f.name, f.encode_name, f.required, compile_check(f.type, query))
            for f in msgspec.structs.fields(cls)
        ]

    def __call__(self, value: Any, loc: Loc, errors: Errors) -> Any:
        if not isinstance(value, dict):
            return _fail(errors, "model_attributes_type", loc, value)
        found: dict[str, Any] = {}
        before = len(errors)
        for name, wire, required, check in self.fields:
            if wire in value:
                found[name] = check(value[wire], (*loc, wire), errors)
            elif required:  # `input` is the enclosing object; a query string has none
                errors.append(missing_error((*loc, wire), None if loc[0] == "query" else value))
        if len(errors) != before:
            return INVALID
        try:
            return self.cls(**found)
        except (TypeError, ValueError) as exc:  # the Struct's own __post_init__ rule
            return _refuse(errors, loc, str(exc), value)

    def fixup(self) -> Fixup | None:
        steps = [(name, fix) for name, _, _, check in self.fields if (fix := fixup_of(check))]
        if not steps:
            return None
        unset, force_setattr = msgspec.UNSET, msgspec.structs.force_setattr

        def fix_struct(value: Any) -> Any:
            for name, fix in steps:
                current = getattr(value, name)
                if current is not unset and current is not (fixed := fix(current)):
                    force_setattr(value, name, fixed)
            return value

        return fix_struct


def fixup_of(check: Check) -> Fixup | None:
    """What to redo in Python on a value msgspec decoded, or None when msgspec said it all."""
    fixup = getattr(check, "fixup", None)
    return typing.cast(Fixup | None, fixup()) if fixup is not None else None


def compile_check(annotation: Any, query: bool = False) -> Check:
    """The checker for a declared type; an unsupported type or constraint fails here, at
    start-up. One `Meta` per type: its `min_length`, `max_length`, `pattern`, `ge`, `le`."""
    meta = msgspec.Meta()
    if typing.get_origin(annotation) is Annotated:
        annotation, *extras = typing.get_args(annotation)
        (meta,) = [m for m in extras if isinstance(m, msgspec.Meta)] or [meta]
    if meta.gt is not None or meta.lt is not None or meta.multiple_of is not None:
        raise TypeError(f"unsupported constraint in a request shape: {meta}")
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is str:
        return Text(meta)
    if annotation is bool:
        return _boolean(query)
    if annotation is int:
        return _integer(meta, query)
    if annotation is dt.date:
        return _date
    if annotation is dt.datetime:
        return _datetime
    if origin is Literal:
        return _literal(args)
    if origin is list and not query:
        return ListOf(compile_check(args[0]), meta)
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return Fields(annotation, query)
    if origin in (typing.Union, types.UnionType):
        others = [a for a in args if a not in (type(None), UnsetType)]
        if len(others) == 1:
            inner = compile_check(others[0], query)
            return Nullable(inner) if type(None) in args else inner
    raise TypeError(f"unsupported type in a request shape: {annotation!r}")

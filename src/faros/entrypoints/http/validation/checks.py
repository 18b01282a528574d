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
_DATE_INEXACT: Final = "Datetimes provided to dates should have zero time - e.g. be exact dates"


class NeedsFullCheck(Exception):
    """A decoded string broke a rule msgspec cannot state (trimming, control characters)."""


Check = Callable[[Any, Loc, Errors], Any]
Fixup = Callable[[Any], Any]


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


def _fail(errors: Errors, item: ErrorDict) -> object:
    errors.append(item)
    return INVALID


class Text:
    """A string: storable (no NUL, no lone surrogate), the domain's control-character rule
    (`extra={"text": "one_line" | "multiline"}`), trimmed if `extra={"strip": True}`, then
    length and pattern checked on the trimmed text; errors quote the text as sent."""

    def __init__(self, meta: msgspec.Meta) -> None:
        extra = meta.extra or {}
        self.strip = bool(extra.get("strip"))
        self.multiline = None if "text" not in extra else extra["text"] == "multiline"
        self.low, self.high = meta.min_length, meta.max_length
        self.pattern = re.compile(meta.pattern) if meta.pattern is not None else None

    def __call__(self, value: Any, loc: Loc, errors: Errors) -> Any:
        if not isinstance(value, str):
            return _fail(errors, error("string_type", loc, "Input should be a valid string", value))
        # PostgreSQL text cannot hold NUL, nor UTF-8 a lone surrogate (a `\ud800` escape).
        if "\x00" in value:
            reason: str | None = "String must not contain NUL characters"
        elif _SURROGATE.search(value):
            reason = "String must not contain unpaired surrogate characters"
        elif self.multiline is not None:
            reason = control_character_problem(value, multiline=self.multiline)
        else:
            reason = None
        if reason is not None:
            return _fail(errors, value_error(loc, reason, value))
        text = value.strip() if self.strip else value
        if self.low is not None and len(text) < self.low:
            msg = f"String should have at least {self.low} {_plural(self.low, 'character')}"
            limit = {"min_length": self.low}
            return _fail(errors, error("string_too_short", loc, msg, value, limit))
        if self.high is not None and len(text) > self.high:
            msg = f"String should have at most {self.high} {_plural(self.high, 'character')}"
            limit = {"max_length": self.high}
            return _fail(errors, error("string_too_long", loc, msg, value, limit))
        if self.pattern is not None and not self.pattern.search(text):
            pattern = self.pattern.pattern
            msg = f"String should match pattern '{pattern}'"
            ctx = {"pattern": pattern}
            return _fail(errors, error("string_pattern_mismatch", loc, msg, value, ctx))
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
        if isinstance(value, str):
            if not (query and _INT_TEXT.fullmatch(value)):
                return _fail(errors, error("int_parsing", loc, INT_PARSING, value))
            value_int = int(value)
        elif type(value) is int:
            value_int = value
        else:
            return _fail(errors, error("int_type", loc, "Input should be a valid integer", value))
        if low is not None and value_int < low:
            msg = f"Input should be greater than or equal to {low}"
            return _fail(errors, error("greater_than_equal", loc, msg, value, {"ge": low}))
        if high is not None and value_int > high:
            msg = f"Input should be less than or equal to {high}"
            return _fail(errors, error("less_than_equal", loc, msg, value, {"le": high}))
        return value_int

    return check


def _boolean(query: bool) -> Check:
    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        if isinstance(value, bool):
            return value
        if query and isinstance(value, str) and value.lower() in _QUERY_BOOLS:
            return _QUERY_BOOLS[value.lower()]
        if isinstance(value, str | int | float):
            msg = "Input should be a valid boolean, unable to interpret input"
            return _fail(errors, error("bool_parsing", loc, msg, value))
        return _fail(errors, error("bool_type", loc, "Input should be a valid boolean", value))

    return check


def _literal(values: tuple[Any, ...]) -> Check:
    shown = [repr(v) for v in values]
    expected = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"

    def check(value: Any, loc: Loc, errors: Errors) -> Any:
        for allowed in values:
            if type(value) is type(allowed) and value == allowed:
                return allowed
        ctx = {"expected": expected}
        return _fail(errors, error("literal_error", loc, f"Input should be {expected}", value, ctx))

    return check


def _date(value: Any, loc: Loc, errors: Errors) -> Any:
    """`YYYY-MM-DD`, or a datetime at exactly midnight (§1.2)."""
    if not isinstance(value, str):
        return _fail(errors, error("date_type", loc, "Input should be a valid date", value))
    try:
        if _DATE_TEXT.fullmatch(value):
            return dt.date.fromisoformat(value)
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        msg = f"Input should be a valid date or datetime, {exc}"
        return _fail(
            errors, error("date_from_datetime_parsing", loc, msg, value, {"error": str(exc)})
        )
    if moment.time() != dt.time():
        return _fail(errors, error("date_from_datetime_inexact", loc, _DATE_INEXACT, value))
    return moment.date()


def _datetime(value: Any, loc: Loc, errors: Errors) -> Any:
    if not isinstance(value, str):
        return _fail(errors, error("datetime_type", loc, "Input should be a valid datetime", value))
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError as exc:
        msg = f"Input should be a valid datetime or date, {exc}"
        return _fail(
            errors, error("datetime_from_date_parsing", loc, msg, value, {"error": str(exc)})
        )


class Nullable:
    def __init__(self, inner: Check) -> None:
        self.inner = inner

    def __call__(self, value: Any, loc: Loc, errors: Errors) -> Any:
        return None if value is None else self.inner(value, loc, errors)

    def fixup(self) -> Fixup | None:
        inner = fixup_of(self.inner)
        return None if inner is None else (lambda value: None if value is None else inner(value))


def _list_size(kind: str, word: str, limit: int, size: int, loc: Loc, value: Any) -> ErrorDict:
    msg = (
        f"List should have at {word} {limit} {_plural(limit, 'item')} after validation, not {size}"
    )
    key = "min_length" if kind == "too_short" else "max_length"
    return error(kind, loc, msg, value, {"field_type": "List", key: limit, "actual_length": size})


class ListOf:
    def __init__(self, item: Check, meta: msgspec.Meta) -> None:
        self.item, self.low, self.high = item, meta.min_length, meta.max_length

    def __call__(self, value: Any, loc: Loc, errors: Errors) -> Any:
        if not isinstance(value, list):
            return _fail(errors, error("list_type", loc, "Input should be a valid list", value))
        before = len(errors)
        items = [self.item(item, (*loc, index), errors) for index, item in enumerate(value)]
        if len(errors) != before:
            return INVALID
        size = len(items)
        if self.low is not None and size < self.low:
            return _fail(errors, _list_size("too_short", "least", self.low, size, loc, value))
        if self.high is not None and size > self.high:
            return _fail(errors, _list_size("too_long", "most", self.high, size, loc, value))
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
            msg = "Input should be a valid dictionary or object to extract fields from"
            return _fail(errors, error("model_attributes_type", loc, msg, value))
        found: dict[str, Any] = {}
        before = len(errors)
        for name, wire, required, check in self.fields:
            if wire in value:
                found[name] = check(value[wire], (*loc, wire), errors)
            elif required:
                errors.append(missing_error((*loc, wire), None if loc[0] == "query" else value))
        if len(errors) != before:
            return INVALID
        try:
            return self.cls(**found)
        except (TypeError, ValueError) as exc:  # the Struct's own __post_init__ rule
            return _fail(errors, value_error(loc, str(exc), value))

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
    """The checker for a declared type; unsupported types fail here, at start-up."""
    meta = msgspec.Meta()
    if typing.get_origin(annotation) is Annotated:
        annotation, *extras = typing.get_args(annotation)
        metas = [m for m in extras if isinstance(m, msgspec.Meta)]
        if metas:
            meta = msgspec.Meta(**{k: v for m in metas for k, v in _meta_fields(m).items()})
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if meta.gt is not None or meta.lt is not None or meta.multiple_of is not None:
        raise TypeError(f"unsupported constraint in a request shape: {meta}")
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
    if annotation is Any:
        return lambda value, loc, errors: value
    if origin is Literal:
        return _literal(args)
    if origin is list and not query:
        return ListOf(compile_check(args[0]), meta)
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return Fields(annotation, query)
    if args and origin in (typing.Union, _UNION_TYPE):
        others = [a for a in args if a not in (type(None), UnsetType)]
        if len(others) == 1:
            inner = compile_check(others[0], query)
            return Nullable(inner) if type(None) in args else inner
    raise TypeError(f"unsupported type in a request shape: {annotation!r}")


_UNION_TYPE: Final = type(int | None)


def _meta_fields(meta: msgspec.Meta) -> dict[str, Any]:
    names = ("ge", "le", "gt", "lt", "multiple_of", "pattern", "min_length", "max_length")
    fields = {name: getattr(meta, name) for name in names if getattr(meta, name) is not None}
    return fields | ({"extra": meta.extra} if meta.extra else {})

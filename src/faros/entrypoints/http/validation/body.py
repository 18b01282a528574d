"""Request bodies: JSON decoded by msgspec into the declared shape, every error reported.

The fast path is msgspec's strict C decoder with the target type; only strings with a trim or
control-character rule are then touched in Python. Whatever it refuses is decoded to plain
values and walked by `checks.py`, which accepts a superset of the fast path (midnight datetimes
for dates, trimmed lengths), so the result never depends on which path ran.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, TypeVar, cast

import msgspec

from faros.entrypoints.http.validation.checks import (
    Check,
    Fixup,
    NeedsFullCheck,
    Nullable,
    compile_check,
    fixup_of,
)
from faros.entrypoints.http.validation.errors import (
    RequestValidationError,
    error,
    missing_error,
)

T = TypeVar("T")

MAX_JSON_DEPTH: Final = 32
"""No request shape nests deeper than a few levels; deeper bodies are refused outright."""
_TOO_DEEP: Final = "Maximum nesting depth exceeded"


@dataclass(frozen=True, slots=True)
class _Plan:
    decoder: msgspec.json.Decoder[Any]
    check: Check
    fixup: Fixup | None


_PLANS: dict[Any, _Plan] = {}


def plan_for(target: Any) -> _Plan:
    plan = _PLANS.get(target)
    if plan is None:
        check = compile_check(target)
        plan = _PLANS[target] = _Plan(
            msgspec.json.Decoder(target, strict=True), check, fixup_of(check)
        )
    return plan


def is_json_content_type(value: str | bytes | None) -> bool:
    """No Content-Type, `application/json` or `application/*+json` is JSON (FastAPI's rule)."""
    if not value:
        return True
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    maintype, _, subtype = text.split(";", 1)[0].strip().lower().partition("/")
    return maintype == "application" and (subtype == "json" or subtype.endswith("+json"))


def decode_body(target: type[T], raw: bytes, *, json_content: bool = True) -> T:
    """Decode and validate a request body into `target` (a Struct, or e.g. `list[str]`).

    A non-JSON Content-Type (`json_content=False`) makes the body a plain string, which then
    fails the type check. Raises `RequestValidationError` naming every offending field.
    """
    plan = plan_for(target)
    data: Any
    if json_content:
        if not raw.isascii():
            # msgspec checks UTF-8 only where it decodes; a skipped key could hide bad bytes.
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _json_error(exc.start, "Invalid UTF-8") from None
        # A `\u` escape may spell a NUL or a lone surrogate, which only the checkers refuse;
        # clients send non-ASCII text raw, so nearly every body still takes the fast path.
        if b"\\u" not in raw:
            try:
                value = plan.decoder.decode(raw)
                return cast(T, value if plan.fixup is None else plan.fixup(value))
            except (msgspec.DecodeError, RecursionError, NeedsFullCheck):
                pass
        data = _plain_json(raw) if raw.strip() else None
    else:
        data = raw.decode("utf-8", "replace") if raw else None
    if data is None and not isinstance(plan.check, Nullable):
        raise RequestValidationError([missing_error(("body",), None)])
    errors: list[Any] = []
    result = plan.check(data, ("body",), errors)
    if errors:
        raise RequestValidationError(errors)
    return cast(T, result)


def _json_error(position: int, reason: str) -> RequestValidationError:
    ctx = {"error": reason}
    return RequestValidationError(
        [error("json_invalid", ("body", position), "JSON decode error", {}, ctx)]
    )


def _plain_json(raw: bytes) -> Any:
    """The body as plain JSON values, or the 422 saying why it is not acceptable JSON.

    The standard library reads what msgspec refuses for its message and offset, and reads a
    lone `\\ud800` escape, which the text check then refuses by name.
    """
    try:
        data = msgspec.json.decode(raw)
    except RecursionError:
        raise _json_error(0, _TOO_DEEP) from None
    except msgspec.DecodeError:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise _json_error(exc.pos, exc.msg) from None
        except RecursionError:
            raise _json_error(0, _TOO_DEEP) from None
        except ValueError:
            raise _json_error(0, "Invalid JSON") from None
    if _deeper_than(data, MAX_JSON_DEPTH):
        raise _json_error(0, _TOO_DEEP)
    return data


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether containers nest more than `limit` levels (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False

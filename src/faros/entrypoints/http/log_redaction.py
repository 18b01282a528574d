"""Tracebacks and messages of database errors without the user content their texts carry.

The log formatters (`request_log.py`) use these for every record: a traceback whose chain holds
a database error is written with Python's usual layout, but each database error's message is
replaced by `loggable_text` (SQLSTATE, constraint, statement: never parameters or row
contents), and the errors it was raised from (an encoder's complaint quoting the value) show
their type only. A database error among a record's arguments (`"... failed: %s", error`) is
written as the same text. Chains without a database error are formatted exactly as before.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Final, TypeAlias

from faros.adapters.postgres.error_text import is_database_error, loggable_text

__all__ = ["format_exception", "has_database_error", "safe_args"]

ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType | None]

_CAUSE: Final = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT: Final = "\nDuring handling of the above exception, another exception occurred:\n\n"
_CHAIN_BOUND: Final = 32  # chains are short; the bound guards against cycles


def _chain(error: BaseException) -> Iterator[tuple[BaseException, str]]:
    """`error` and the errors it was raised from or during, newest first, each with the line
    that joins it to the previous (newer) one in a traceback."""
    current: BaseException | None = error
    joint = ""
    seen: set[int] = set()
    while current is not None and id(current) not in seen and len(seen) < _CHAIN_BOUND:
        seen.add(id(current))
        yield current, joint
        if current.__cause__ is not None:
            current, joint = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, joint = current.__context__, _CONTEXT
        else:
            current = None


def has_database_error(error: BaseException) -> bool:
    return any(is_database_error(link) for link, _ in _chain(error))


def _type_name(error: BaseException) -> str:
    kind = type(error)
    if kind.__module__ in ("builtins", "__main__"):
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _loggable_chain(error: BaseException) -> list[tuple[BaseException, str, str]]:
    """(error, joint, the line naming it), newest first."""
    links = list(_chain(error))
    # The oldest database error: it and everything it was raised from may quote user input.
    oldest = max((i for i, (link, _) in enumerate(links) if is_database_error(link)), default=-1)
    lines: list[tuple[BaseException, str, str]] = []
    for index, (link, joint) in enumerate(links):
        if is_database_error(link):
            text = f"{_type_name(link)}: {loggable_text(link)}"
        elif index > oldest:
            text = _type_name(link)  # raised before the database error: its input, maybe
        else:
            text = "".join(traceback.format_exception_only(type(link), link)).rstrip("\n")
        lines.append((link, joint, text))
    return lines


def format_exception(ei: ExcInfo | tuple[None, None, None]) -> str:
    """`logging.Formatter.formatException`, with database errors' texts made loggable."""
    error = ei[1]
    if error is None or not has_database_error(error):
        return "".join(traceback.format_exception(*ei)).rstrip("\n")
    parts: list[str] = []
    for link, joint, text in reversed(_loggable_chain(error)):
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(link.__traceback__))
        parts.append(text + "\n")
        parts.append(joint)
    return "".join(parts).rstrip("\n")


def safe_args(args: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """`args` with each database error in it as its loggable text; None when it has none.
    (The text of an error raised from a database error is its own: it is kept.)"""
    if not any(isinstance(arg, BaseException) and is_database_error(arg) for arg in args):
        return None
    return tuple(
        loggable_text(arg) if isinstance(arg, BaseException) and is_database_error(arg) else arg
        for arg in args
    )

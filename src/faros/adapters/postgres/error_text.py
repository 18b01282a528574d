"""What may be logged of a database error: never a statement's parameters, nor row contents.

The texts of the driver's errors carry user content: SQLAlchemy appends the parameters (hidden
by the engine's `hide_parameters`), asyncpg's encoding errors quote the offending argument, and
PostgreSQL's DETAIL lines repeat key values and whole rows ("Key (email)=(...) already exists",
"Failing row contains (...)"), as do its data-exception messages (SQLSTATE class 22: 'invalid
input syntax for type integer: "..."'). `loggable_text` keeps what identifies the failure: the
SQLSTATE, the constraint, table and column, the statement (FAROS's own SQL, placeholders only)
and PostgreSQL's primary message where it cannot hold input.
"""

from __future__ import annotations

import re
from typing import Final

import asyncpg.exceptions
from sqlalchemy import exc as sa_exc

__all__ = ["is_database_error", "loggable_text"]

_DRIVER_MODULES: Final = ("asyncpg", "sqlalchemy")
# asyncpg: "invalid input for query argument $1: 'the value' (the encoder's complaint)".
_ARGUMENT: Final = re.compile(r"invalid input for query argument \$\d+")
_DATA_EXCEPTION_CLASS: Final = "22"
_NAMED_PARTS: Final = (
    ("constraint_name", "constraint"),
    ("table_name", "table"),
    ("column_name", "column"),
)


def is_database_error(error: BaseException) -> bool:
    """An error raised by the driver or SQLAlchemy (or SQLAlchemy's adapter of the driver)."""
    module = type(error).__module__
    return module.split(".", 1)[0] in _DRIVER_MODULES


def loggable_text(error: BaseException) -> str:
    """The message to log for `error`, a database error, in place of `str(error)`."""
    if isinstance(error, sa_exc.StatementError):
        return f"[SQL: {error.statement}] (parameters not logged)"
    parts: list[str] = []
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str):
        parts.append(f"SQLSTATE {sqlstate}")
    for attribute, label in _NAMED_PARTS:
        value = getattr(error, attribute, None)
        if isinstance(value, str):
            parts.append(f"{label} {value}")
    primary = _primary_message(error, sqlstate)
    if primary:
        parts.append(primary)
    return "; ".join(parts) or "(message not logged)"


def _primary_message(error: BaseException, sqlstate: object) -> str | None:
    message = error.args[0] if error.args and isinstance(error.args[0], str) else None
    if message is None:
        return None
    if isinstance(error, asyncpg.exceptions.DataError):
        found = _ARGUMENT.match(message)
        return found.group(0) if found else None
    if isinstance(error, asyncpg.exceptions.PostgresError):
        # args[0] is the primary message alone; str() would add DETAIL and HINT.
        if isinstance(sqlstate, str) and sqlstate.startswith(_DATA_EXCEPTION_CLASS):
            return None
        return message
    if isinstance(error, asyncpg.exceptions.InterfaceError | sa_exc.SQLAlchemyError):
        # Misuse and pool errors name FAROS's own objects, not user data; but SQLAlchemy's
        # adapter errors repeat the driver's whole text, which is described on its own.
        return None if type(error).__module__.startswith("sqlalchemy.dialects") else message
    return None

"""Core statements compiled once by SQLAlchemy, to be run on asyncpg (`Query`)."""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any, Final

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.sql import Executable

_DIALECT: Final = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


class Query:
    """A Core statement compiled once to asyncpg's SQL, for `Database.execute`.

    `transactional`: the statement writes or locks rows, so it must run inside the unit of
    work's transaction (which it begins); other statements run in autocommit mode until then.
    Parameters are passed by name, as to SQLAlchemy, and rows read as `row.column`.
    """

    __slots__ = ("_processors", "_row_types", "fixed", "names", "sql", "transactional")

    def __init__(self, statement: Executable, *, transactional: bool = False) -> None:
        compiled = statement.compile(dialect=_DIALECT)  # type: ignore[attr-defined]
        self.transactional = transactional
        self.sql: str = str(compiled)
        if "POSTCOMPILE" in self.sql:
            # An expanding IN renders its SQL per call; compiled once, it cannot be run.
            raise ValueError("use `= ANY(:ids)` (ids_param) instead of IN with a list")
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        # Values the statement carries itself (literals SQLAlchemy sends as parameters, such
        # as the priority ranks of a CASE); the caller supplies the others.
        self.fixed: dict[str, Any] = {
            name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
        }

        # What SQLAlchemy would do to a value before handing it to the driver (a JSON value
        # becomes its text, for instance); None for the many types asyncpg takes as they are.
        self._processors: tuple[Callable[[Any], Any] | None, ...] | None = None
        processors = tuple(
            compiled.binds[name].type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
            for name in self.names
        )
        if any(processors):
            self._processors = processors
        self._row_types: dict[tuple[str, ...], Callable[[asyncpg.Record], Any]] = {}

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = [params[name] if name in params else self.fixed[name] for name in self.names]
        if self._processors is None:
            return values
        # Called for None too: a JSON None is the JSON text `null`, as SQLAlchemy stores it.
        return [
            value if process is None else process(value)
            for value, process in zip(values, self._processors, strict=True)
        ]

    def rows(self, records: list[asyncpg.Record]) -> list[Any]:
        """The records as rows readable like SQLAlchemy's (`row.name`), for the same converters.

        A named tuple per column list: its attributes are read in C, and a page of tasks
        reads hundreds of them (a `__getattr__` wrapper showed in profiles: bench/README.md).
        """
        if not records:
            return []
        keys = tuple(records[0].keys())
        make = self._row_types.get(keys)
        if make is None:
            make = self._row_types[keys] = _row_type(keys)
        return [make(record) for record in records]


def _row_type(keys: tuple[str, ...]) -> Callable[[asyncpg.Record], Any]:
    try:
        # `tuple.__new__` straight from the record's values: no Python-level __init__.
        return functools.partial(tuple.__new__, namedtuple("Row", keys))
    except ValueError:  # a label that cannot be an attribute name (or a repeated one)
        return RecordRow


class RecordRow:
    """An asyncpg record read like a SQLAlchemy row (`row.name`), for the same converters."""

    __slots__ = ("_record",)

    def __init__(self, record: asyncpg.Record) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._record[name]
        except KeyError:
            raise AttributeError(name) from None

"""A failing statement's log holds no parameter values nor row contents (issue #14, informational).

Real statements fail on this session's PostgreSQL, through SQLAlchemy (FAROS's engine) and
straight on asyncpg (as the hot paths run them), each carrying a recognisable value; the
errors are logged the way FAROS logs an unhandled error (a traceback) and a failed batch (the
error as a `%s` argument), through FAROS's own formatters. The value must appear nowhere,
while what identifies the failure (SQLSTATE, constraint, statement) stays.
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from faros.entrypoints.http.request_log import ConsoleFormatter, JsonFormatter

pytestmark = pytest.mark.postgres

SECRET = "Sekrit-Value-4711"
TABLE = (
    "CREATE TEMPORARY TABLE leak"
    " (id integer PRIMARY KEY, name text UNIQUE CHECK (length(name) < 9))"
)


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        # Pooled connections are reused: a temporary table of an earlier test may still be there.
        await connection.execute(text("DROP TABLE IF EXISTS pg_temp.leak"))
        await connection.execute(text(TABLE))
        await connection.commit()
        yield connection
        await connection.rollback()
        await connection.execute(text("DROP TABLE pg_temp.leak"))
        await connection.commit()


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger("faros.test.database_errors")
    handlers = [logging.StreamHandler(stream), logging.StreamHandler(stream)]
    handlers[0].setFormatter(JsonFormatter())
    handlers[1].setFormatter(ConsoleFormatter())
    for handler in handlers:
        logger.addHandler(handler)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
        logger.propagate = True


async def _failure(connection: AsyncConnection, sql: str, **params: object) -> Exception:
    try:
        await connection.execute(text(sql), params)
    except Exception as error:  # noqa: BLE001 - the error is what the test looks at
        await connection.rollback()
        return error
    raise AssertionError(f"{sql} did not fail")


async def _driver_failure(connection: AsyncConnection, sql: str, *args: object) -> Exception:
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    try:
        await driver.fetch(sql, *args)
    except Exception as error:  # noqa: BLE001
        return error
    raise AssertionError(f"{sql} did not fail")


def _logged(logger: logging.Logger, stream: io.StringIO, error: Exception) -> str:
    logger.error("unhandled %s on POST /x", type(error).__name__, exc_info=error)
    logger.warning("batch failed again (failure %s): %s", 2, error)
    return stream.getvalue()


async def test_a_check_violation_logs_neither_parameters_nor_the_row(
    connection: AsyncConnection, log: tuple[logging.Logger, io.StringIO]
) -> None:
    error = await _failure(connection, "INSERT INTO leak VALUES (1, :name)", name=SECRET)
    assert SECRET in str(error.__cause__.__cause__)  # type: ignore[union-attr]  # "Failing row"
    assert SECRET not in str(error)  # the engine hides parameters (hide_parameters)
    output = _logged(*log, error)
    assert SECRET not in output
    assert "SQLSTATE 23514" in output
    assert "leak_name_check" in output
    assert "[SQL: INSERT INTO leak VALUES (1, $1)]" in output


async def test_a_unique_violation_logs_no_key_value(
    connection: AsyncConnection, log: tuple[logging.Logger, io.StringIO]
) -> None:
    await connection.execute(text("INSERT INTO leak VALUES (1, :name)"), {"name": "taken"})
    error = await _failure(connection, "INSERT INTO leak VALUES (2, :name)", name="taken")
    assert "Key (name)=(taken)" in str(error.__cause__.__cause__)  # type: ignore[union-attr]
    output = _logged(*log, error)
    assert "taken" not in output
    assert "SQLSTATE 23505" in output
    assert "leak_name_key" in output


async def test_a_data_exception_does_not_quote_its_input(
    connection: AsyncConnection, log: tuple[logging.Logger, io.StringIO]
) -> None:
    error = await _failure(connection, "SELECT CAST(CAST(:value AS text) AS integer)", value=SECRET)
    output = _logged(*log, error)
    assert SECRET not in output
    assert "SQLSTATE 22P02" in output


async def test_an_argument_the_driver_cannot_encode_is_not_quoted(
    connection: AsyncConnection, log: tuple[logging.Logger, io.StringIO]
) -> None:
    through_sqlalchemy = await _failure(connection, "SELECT CAST(:id AS integer)", id=SECRET)
    on_the_driver = await _driver_failure(connection, "SELECT $1::integer", SECRET)
    assert SECRET in str(on_the_driver)  # asyncpg quotes it
    logger, stream = log
    output = _logged(logger, stream, through_sqlalchemy) + _logged(logger, stream, on_the_driver)
    assert SECRET not in output
    assert "invalid input for query argument $1" in output

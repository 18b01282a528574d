"""Alembic environment for FAROS: everything lives in the ``faros`` schema, asyncpg driver.

Two ways in:
- programmatic (``faros.adapters.postgres.migrate``): the caller hands over an open connection
  in ``config.attributes["connection"]`` and owns the transaction;
- the ``alembic`` command line (``alembic.ini`` at the repository root): the URL comes from
  ``FAROS_DATABASE_URL`` (a plain ``postgresql://`` URL) or ``-x database_url=...``.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from faros.adapters.postgres.engine import to_asyncpg_url
from faros.adapters.postgres.tables import SCHEMA, metadata

config = context.config


def _ensure_schema(connection: Connection) -> None:
    # Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database
    # even when the schema exists, which a role on a shared database may not have.
    exists = connection.execute(
        text("SELECT 1 FROM pg_namespace WHERE nspname = :name"), {"name": SCHEMA}
    ).scalar()
    if not exists:
        connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))


def _include_name(name: str | None, type_: str, parent_names: object) -> bool:
    # Autogenerate looks at our schema only.
    return type_ != "schema" or name == SCHEMA


def _run_migrations(connection: Connection) -> None:
    _ensure_schema(connection)
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=SCHEMA,
        include_schemas=True,
        include_name=_include_name,
        compare_type=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_async_engine(to_asyncpg_url(url), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run_migrations)
    finally:
        await engine.dispose()


def _url_from_environment() -> str:
    url = context.get_x_argument(as_dictionary=True).get("database_url") or os.environ.get(
        "FAROS_DATABASE_URL"
    )
    if not url:
        raise SystemExit("set FAROS_DATABASE_URL or pass -x database_url=postgresql://...")
    return url


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")

shared_connection = config.attributes.get("connection")
if shared_connection is not None:
    _run_migrations(shared_connection)
else:
    if config.config_file_name is not None:  # the alembic command line: its logging set-up
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    asyncio.run(_run_with_own_engine(_url_from_environment()))

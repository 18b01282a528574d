"""Migrations: every step goes up, down and up again, and head matches ``tables.py``."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres.engine import create_engine
from faros.adapters.postgres.migrate import alembic_config, downgrade_async, upgrade_async
from faros.adapters.postgres.tables import SCHEMA, metadata

pytestmark = pytest.mark.postgres

# Everything a migration can leave behind in the schema, by kind.
_SCHEMA_OBJECTS = """
    SELECT 'relation ' || c.relname FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :schema
    UNION ALL SELECT 'type ' || t.typname FROM pg_type t
      JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = :schema AND t.typrelid = 0 AND t.typelem = 0
    UNION ALL SELECT 'routine ' || p.proname FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :schema
"""
# What stays after a downgrade to base: alembic's own bookkeeping.
_VERSION_TABLE = {
    "relation alembic_version",
    "relation alembic_version_pkc",
    "type alembic_version",
    "type _alembic_version",
}


def _revisions_base_to_head() -> list[tuple[str, str]]:
    """(revision, the revision below it or "base") pairs, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    steps = [
        (rev.revision, rev.down_revision or "base")
        for rev in script.walk_revisions(base="base", head="heads")
    ]
    assert all(isinstance(down, str) for _, down in steps), "merge revisions need a new test"
    return [(up, str(down)) for up, down in reversed(steps)]


async def _schema_objects(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text(_SCHEMA_OBJECTS), {"schema": SCHEMA})
        return {row[0] for row in rows}


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "include_schemas": True,
            "include_name": lambda name, type_, _parents: type_ != "schema" or name == SCHEMA,
            "version_table_schema": SCHEMA,
            "compare_type": True,
            "compare_server_default": True,
        },
    )
    differences: list[Any] = compare_metadata(context, metadata)
    return differences


def _names(connection: Connection, query: str) -> set[str]:
    return {row[0] for row in connection.execute(text(query), {"schema": SCHEMA})}


_CHECK_CONSTRAINTS = """
    SELECT con.conname FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
     WHERE n.nspname = :schema AND con.contype = 'c'
"""
_PARTIAL_INDEXES = """
    SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = :schema AND i.indpred IS NOT NULL
"""


async def test_there_is_a_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1


@pytest.mark.slow
async def test_stairway_up_down_up(database_factory: Any) -> None:
    url = await database_factory.create(migrate=False)
    engine = create_engine(url, pool_size=1)
    try:
        for revision, below in _revisions_base_to_head():
            await upgrade_async(url, revision)
            await downgrade_async(url, below)
            await upgrade_async(url, revision)

        await downgrade_async(url, "base")
        assert await _schema_objects(engine) <= _VERSION_TABLE

        await upgrade_async(url, "head")
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()


async def test_head_matches_tables_module(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_what_compare_cannot_see_matches_tables_module(engine: AsyncEngine) -> None:
    # compare_metadata sees neither CHECK constraints nor index predicates: names must agree.
    tables = metadata.tables.values()
    checks = {
        str(constraint.name)
        for table in tables
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    partial_indexes = {
        str(index.name)
        for table in tables
        for index in table.indexes
        if index.dialect_options["postgresql"]["where"] is not None
    }
    async with engine.connect() as connection:
        assert await connection.run_sync(_names, _CHECK_CONSTRAINTS) == checks
        assert await connection.run_sync(_names, _PARTIAL_INDEXES) == partial_indexes


async def test_surrogate_keys_are_generated_by_sequences(engine: AsyncEngine) -> None:
    query = text(
        "SELECT table_name || '.' || column_name FROM information_schema.columns"
        " WHERE table_schema = :schema AND column_default LIKE 'nextval(%'"
    )
    async with engine.connect() as connection:
        generated = {row[0] for row in await connection.execute(query, {"schema": SCHEMA})}
    expected = {
        f"{table.name}.{column.name}"
        for table in metadata.tables.values()
        for column in table.primary_key.columns
        if table.autoincrement_column is column
    }
    assert generated == expected
    assert "notification_preferences.user_id" not in generated


USERNAME_CASE = "0003_username_case"


async def test_usernames_differing_only_in_case_do_not_stop_the_migration(
    database_factory: Any,
) -> None:
    """The original FAROS let `bob` and `BOB` coexist; the lower(username) index takes them."""
    below = ScriptDirectory.from_config(alembic_config()).get_revision(USERNAME_CASE).down_revision
    assert isinstance(below, str)
    url = await database_factory.create(migrate=False)
    await upgrade_async(url, below)
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO faros.users (username, email, hashed_password) VALUES"
                    " ('bob', 'bob@example.com', 'h'), ('BOB', 'bob2@example.com', 'h')"
                )
            )
        await upgrade_async(url, "head")
        async with engine.connect() as connection:
            names = await connection.execute(
                text("SELECT username FROM faros.users WHERE lower(username) = 'bob'")
            )
            assert sorted(row[0] for row in names) == ["BOB", "bob"]
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()

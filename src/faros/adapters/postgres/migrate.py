"""Run the alembic migrations programmatically (used by ``faros migrate`` / ``faros serve``).

The migration scripts live inside the package (``faros/adapters/postgres/migrations``) rather
than at the repository root: that way they are found through ``__file__`` whether faros runs
from a checkout, an editable install or a wheel (a Docker image), and no ``alembic.ini`` is
needed at run time.  ``alembic.ini`` at the repository root points at the same folder for the
``alembic`` command line (``alembic revision -m ...``, ``alembic history``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from faros.adapters.postgres.engine import to_asyncpg_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic :class:`Config` for our migrations, optionally bound to an open connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (default: the newest) in one transaction."""
    await _run(database_url, command.upgrade, revision)


async def downgrade_async(database_url: str, revision: str) -> None:
    """Revert migrations down to ``revision`` (``"base"`` reverts all) in one transaction."""
    await _run(database_url, command.downgrade, revision)


def upgrade(database_url: str, revision: str = "head") -> None:
    """Blocking :func:`upgrade_async`; callable from sync code and from inside an event loop."""
    _block_on(upgrade_async(database_url, revision))


def downgrade(database_url: str, revision: str) -> None:
    """Blocking :func:`downgrade_async`; callable from sync code and from inside an event loop."""
    _block_on(downgrade_async(database_url, revision))


async def _run(database_url: str, step: Callable[[Config, str], None], revision: str) -> None:
    engine = create_async_engine(to_asyncpg_url(database_url), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: step(alembic_config(sync), revision))
    finally:
        await engine.dispose()


def _block_on(coroutine: Coroutine[Any, Any, None]) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    # Called from async code: run on a private loop in a worker thread, never nest loops.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()

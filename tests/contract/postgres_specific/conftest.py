"""Fixtures for checks that only make sense against PostgreSQL itself."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres.engine import create_engine
from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.ports.unit_of_work import UnitOfWorkFactory


@pytest.fixture
def uow_factory(engine: AsyncEngine) -> UnitOfWorkFactory:
    return PostgresUnitOfWorkFactory(engine)


@pytest.fixture
async def own_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of its own, so the pools' check-out counts are this test's alone."""
    engine = create_engine(database_url, pool_size=2)
    yield engine
    await engine.dispose()

"""Fixtures for checks that only make sense against PostgreSQL itself."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.ports.unit_of_work import UnitOfWorkFactory


@pytest.fixture
def uow_factory(engine: AsyncEngine) -> UnitOfWorkFactory:
    return PostgresUnitOfWorkFactory(engine)

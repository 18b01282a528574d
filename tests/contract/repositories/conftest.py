"""The repository contract suite runs every test against each adapter of the repository ports.

The PostgreSQL database is shared by the whole session (and by parallel workers), so tests
never assume empty tables: they create their own users with random names and look only at what
they made. Most tests stay inside one unit of work that is never committed, which leaves no
trace in the database.
"""

from __future__ import annotations

import pytest

from faros.adapters.memory import MemoryUnitOfWorkFactory
from faros.adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from faros.ports.unit_of_work import UnitOfWorkFactory

ADAPTERS = ["memory", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=ADAPTERS)
def uow_factory(request: pytest.FixtureRequest) -> UnitOfWorkFactory:
    if request.param == "memory":
        return MemoryUnitOfWorkFactory()
    # `engine` (tests/conftest.py) starts PostgreSQL only when a postgres test needs it.
    return PostgresUnitOfWorkFactory(request.getfixturevalue("engine"))

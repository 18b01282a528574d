"""Apps of their own for the token tests that move the clock or count rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar import Litestar

from faros.adapters.memory.clock import ManualClock
from faros.entrypoints.bootstrap import Adapters, in_memory
from faros.entrypoints.http.app import create_app


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.postgres)])
async def clocked(
    request: pytest.FixtureRequest, kit: Any, tmp_path: Any
) -> AsyncIterator[tuple[Litestar, ManualClock]]:
    """An app whose clock moves only when told (the app's JWTs follow it too)."""
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    settings = kit.make_settings(tmp_path)
    hasher = kit.fast_hasher()
    if request.param == "memory":
        app = create_app(
            settings, adapters=Adapters(persistence=in_memory(), hasher=hasher, clock=clock)
        )
    else:
        url = request.getfixturevalue("database_url")
        app = create_app(settings, database_url=url, adapters=Adapters(hasher=hasher, clock=clock))
    async with kit.running(app):
        yield app, clock


@pytest.fixture
async def limited(kit: Any, tmp_path: Any) -> AsyncIterator[Litestar]:
    """An app on the memory adapters with its rate limits on."""
    app = create_app(
        kit.make_settings(tmp_path, rate_limits=True),
        adapters=Adapters(persistence=in_memory(), hasher=kit.fast_hasher()),
    )
    async with kit.running(app):
        yield app

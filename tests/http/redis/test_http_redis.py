"""The app wired with Redis (cache and rate-limit counters), as production runs it (D6, D17)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


async def test_app_with_redis_reports_it_and_serves_fresh_stats(
    database_url: str, redis_url: str, kit: Any, tmp_path: Path
) -> None:
    application = kit.build_app(kit.make_settings(tmp_path, redis_url=redis_url), database_url)
    async with kit.running(application), kit.new_client(application) as client:
        health = await client.get("/health")
        assert health.status_code == 200
        assert health.json() == {"status": "healthy", "database": "connected", "redis": "connected"}
        api = kit.Api(client)
        owner = await api.user()
        assert (await api.get(owner, "/tasks/stats")).json()["total"] == 0  # cached now
        await api.task(owner)
        assert (await api.get(owner, "/tasks/stats")).json()["total"] == 1

"""Where a user's task statistics are cached, and how long they stay there."""

from __future__ import annotations

from collections.abc import Iterable

from faros.ports.cache import Cache

STATS_TTL_SECONDS = 300


def stats_key(user_id: int) -> str:
    return f"stats:user_{user_id}"


async def invalidate_stats(cache: Cache, user_ids: Iterable[int]) -> None:
    keys = sorted({stats_key(user_id) for user_id in user_ids})
    if keys:
        await cache.delete(*keys)

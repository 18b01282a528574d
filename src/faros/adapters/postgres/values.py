"""Values on their way to and from PostgreSQL: id ranges, NUL, LIKE patterns, UTC times."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ARRAY, Integer, bindparam
from sqlalchemy.sql.elements import BindParameter

# Every id column is a 32-bit `integer` (the domain's id rule); a larger value sent as a
# parameter fails to encode, so the repositories check it first.
from faros.domain.ids import is_int32

# OFFSET and LIMIT are bigint; clamp absurd page requests instead of failing on them.
BIGINT_SAFE = 2**62

LIKE_ESCAPE = "\\"


def ids_param(name: str) -> BindParameter[Any]:
    """An `integer[]` parameter, used as `= ANY(:name)`: one SQL text whatever the list size,
    so asyncpg prepares it once per connection (an expanding IN renders one text per size)."""
    return bindparam(name, type_=ARRAY(Integer))


def int32_ids(values: Iterable[int]) -> list[int]:
    """The values that can be ids, deduplicated, in ascending order."""
    return sorted({value for value in values if is_int32(value)})


def has_nul(text: str) -> bool:
    """PostgreSQL text cannot hold NUL: such a value matches nothing and must not be sent."""
    return "\x00" in text


def contains_pattern(text: str) -> str:
    """A LIKE pattern for "contains `text` literally" (D12: wildcards in user input escaped)."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def utc(value: datetime) -> datetime:
    # asyncpg already decodes timestamptz as UTC; this keeps the promise explicit and cheap.
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def start_of_next_day(day: date) -> datetime | None:
    """Midnight UTC after `day`; None for the last representable date (no upper bound)."""
    if day == date.max:
        return None
    return start_of_day(day + timedelta(days=1))

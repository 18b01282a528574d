"""A clock that only moves when told to (tests and local development)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


class ManualClock:
    """`Clock` port whose time is set and advanced explicitly.

    Starts at `start` (default: the real current time), which must be timezone-aware; it is
    kept in UTC so `now()` honours the port's contract whatever zone the caller used.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _utc(start if start is not None else datetime.now(UTC))

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def set(self, instant: datetime) -> None:
        self._now = _utc(instant)

    def advance(self, delta: timedelta | float) -> None:
        """Move forward by `delta` (a timedelta or seconds); negative values move back."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        self._now += step


def _utc(instant: datetime) -> datetime:
    # A naive datetime has no defined instant; guessing a zone would hide test bugs.
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("ManualClock needs a timezone-aware datetime")
    return instant.astimezone(UTC)

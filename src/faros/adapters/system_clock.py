"""The real clock."""

from __future__ import annotations

from datetime import UTC, date, datetime


class SystemClock:
    """`Clock` port on the system time, in UTC.

    `today()` is the UTC date (not the server's local one), so "overdue" does not depend on the
    time zone the process happens to run in.
    """

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()

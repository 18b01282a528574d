"""One connection for the two units of work of a bodiless request: authentication, then the
use case.

Handing the first one's connection to the second saves a pool check-out and check-in per
request. The two are opened by different services, each holding a `UnitOfWorkFactory` and no
connection, so the connection waits in the request's context (`HAND_OVER`, set around the
request by `PostgresUnitOfWorkFactory.handing_over`). Passing it explicitly instead would
thread an adapter's connection through the HTTP layer and the domain services, whose ports
know nothing of connections.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar

from faros.adapters.postgres.database import Database

logger = logging.getLogger("faros.postgres")


class ConnectionHandOver:
    """The connection kept for one request: lent to one unit of work at a time, to two in all,
    and closed when the request ends (a file download then streams without a connection)."""

    __slots__ = ("_database", "_lent", "_uses_left")

    def __init__(self) -> None:
        self._database: Database | None = None
        self._lent = False
        self._uses_left = 2

    def lend(self, make: Callable[[], Database]) -> Database | None:
        """The kept connection (made now if none yet); None while lent out or once used up."""
        if self._lent or self._uses_left == 0:
            return None
        self._lent = True
        self._uses_left -= 1
        if self._database is None:
            self._database = make()
        return self._database

    async def take_back(self, database: Database, *, failed: bool) -> None:
        """Keep `database` for the next unit of work, or close it when none may have it."""
        self._lent = False
        # After an error the connection may be broken or mid-statement: not kept.
        if not failed and self._uses_left > 0:
            try:
                await database.reset()
            except Exception:
                logger.debug("a connection could not be reset; not handed over", exc_info=True)
            else:
                return
        self._database = None
        await database.close()

    async def end(self) -> None:
        """The request is over: nothing more is lent, and the kept connection goes back."""
        self._uses_left = 0
        # Lent: a task started in this request is still in its unit of work, which will
        # return the connection itself when it leaves.
        if self._database is not None and not self._lent:
            database, self._database = self._database, None
            await database.close()


HAND_OVER: ContextVar[ConnectionHandOver | None] = ContextVar(
    "faros_connection_hand_over", default=None
)

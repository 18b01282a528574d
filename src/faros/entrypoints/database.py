"""Finding the database: the configured server, or an embedded PostgreSQL in the data folder."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from faros.entrypoints.embedded_postgres import EmbeddedPostgres
from faros.entrypoints.settings import Settings

logger = logging.getLogger("faros.database")


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield a URL to use; an embedded server started here is stopped on exit."""
    if settings.database_url:
        yield settings.database_url
        return
    embedded = EmbeddedPostgres(settings.embedded_postgres_dir)
    logger.info(
        "FAROS_DATABASE_URL is not set: starting the embedded PostgreSQL in %s",
        settings.embedded_postgres_dir,
    )
    url = embedded.start()
    # Server worker processes and `faros worker` children find the same server through this.
    os.environ["FAROS_DATABASE_URL"] = url
    # uvicorn re-raises a captured SIGTERM after its shutdown with the previous handler; the
    # default one would kill the process before the `finally` below stops the database.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield url
    finally:
        signal.signal(signal.SIGTERM, previous)
        embedded.stop()
        logger.info("embedded PostgreSQL stopped")

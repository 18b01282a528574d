"""Finding the database: the configured server, or an embedded PostgreSQL in the data folder."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

from faros.adapters.postgres.embedded import EmbeddedPostgres
from faros.entrypoints.settings import Settings

logger = logging.getLogger("faros.database")


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield a URL to use; an embedded server started here is stopped on exit."""
    if settings.database_url:
        yield settings.database_url
        return
    embedded = EmbeddedPostgres(settings.embedded_postgres_dir)
    logger.info("FAROS_DATABASE_URL is not set: starting the embedded PostgreSQL in %s",
                settings.embedded_postgres_dir)
    url = embedded.start()
    # Server worker processes and `faros worker` children find the same server through this.
    os.environ["FAROS_DATABASE_URL"] = url
    try:
        yield url
    finally:
        embedded.stop()

"""`faros serve | migrate | worker` — the command line a user starts FAROS with."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from faros.adapters.postgres.migrate import upgrade
from faros.entrypoints.background import BackgroundJobs
from faros.entrypoints.bootstrap import build_container
from faros.entrypoints.database import database_url
from faros.entrypoints.http.request_log import configure_logging
from faros.entrypoints.server import uvicorn_options
from faros.entrypoints.settings import Settings, SettingsError, load_settings

logger = logging.getLogger("faros.cli")


def _serve(settings: Settings) -> None:
    import gc

    import uvicorn

    # Loaded now rather than by uvicorn, so that its objects are frozen with the rest below.
    import faros.entrypoints.http.app  # noqa: F401

    with database_url(settings) as url:
        upgrade(url)
        # The garbage collector's full passes walked every object of Litestar, SQLAlchemy and
        # the app on each run: their pauses were the p99 of every route (bench/README.md).
        # Frozen objects are never scanned again; a higher first threshold makes passes rarer
        # (request garbage is freed by reference counting anyway). Done in this process, which
        # is the server when FAROS_WORKERS=1; uvicorn's worker processes start afresh.
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, 10, 10)
        logger.info("serving on http://%s:%s (docs at /docs)", settings.host, settings.port)
        uvicorn.run(
            "faros.entrypoints.http.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            loop="uvloop",
            access_log=False,
            log_config=None,
            proxy_headers=False,
            server_header=False,
            # A worker process imports Litestar, SQLAlchemy and the app before it answers the
            # supervisor; on a loaded 2-core machine that took longer than uvicorn's 5 s
            # default, and the supervisor killed and restarted workers forever.
            timeout_worker_healthcheck=60,
            # http (the protocol with the request-head limits), timeout_keep_alive and
            # limit_concurrency, from the FAROS_* settings.
            **uvicorn_options(settings),
        )


def _migrate(settings: Settings) -> None:
    with database_url(settings) as url:
        upgrade(url)
        logger.info("database is at the newest migration")


async def _work(settings: Settings, url: str) -> None:
    container = build_container(settings, database_url=url, pool_size=2)
    # Its own process: LISTEN for new messages, so they need not wait for the next poll.
    jobs = BackgroundJobs(container.outbox, container.notifications, listen_url=url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    jobs.start()
    logger.info("outbox worker running; Ctrl-C to stop")
    try:
        await stop.wait()
    finally:
        await jobs.stop()
        await container.aclose()


def _worker(settings: Settings) -> None:
    with database_url(settings) as url:
        upgrade(url)
        asyncio.run(_work(settings, url))


COMMANDS = {"serve": _serve, "migrate": _migrate, "worker": _worker}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="faros", description="FAROS task-management API")
    parser.add_argument("command", choices=sorted(COMMANDS), help="what to run")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"faros: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.log_level)
    COMMANDS[args.command](settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())

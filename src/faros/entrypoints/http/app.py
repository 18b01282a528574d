"""The Litestar application: routes, error mapping, CORS/CSRF, logging, lifespan wiring.

`create_app()` is what `faros serve` hands to uvicorn (as a factory, once per worker process).
Tests pass their own settings and database URL or adapters; nothing here special-cases them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from litestar import Litestar
from litestar.openapi import OpenAPIConfig

from faros import __version__
from faros.entrypoints.background import BackgroundJobs
from faros.entrypoints.bootstrap import Adapters, Container, build_container
from faros.entrypoints.http.controllers import (
    activity,
    auth,
    comments,
    files,
    meta,
    notifications,
    sharing,
    tasks,
    tokens,
    users,
    webhooks,
)
from faros.entrypoints.http.deps import Running, dependencies
from faros.entrypoints.http.docs_ui import swagger_assets, swagger_ui
from faros.entrypoints.http.errors import exception_handlers
from faros.entrypoints.http.hand_over import install_connection_hand_over
from faros.entrypoints.http.idempotency import idempotency_handlers
from faros.entrypoints.http.openapi import TAGS, operation_id, security_components
from faros.entrypoints.http.openapi_document import FinishedJson
from faros.entrypoints.http.outages import outage_handlers
from faros.entrypoints.http.request_log import install_request_log
from faros.entrypoints.http.security import (
    cors_config,
    install_preflight_status,
    request_guard,
)
from faros.entrypoints.http.validation import ValidationPlugin
from faros.entrypoints.settings import Settings, load_settings
from faros.ports.password_hasher import PasswordHasher

logger = logging.getLogger("faros.app")

ROUTERS = [
    meta.router,
    auth.router,
    tasks.router,
    sharing.router,
    comments.router,
    files.router,
    notifications.protected,
    notifications.public,
    activity.router,
    users.protected,
    users.public,
    tokens.router,
    webhooks.router,
    swagger_assets(),
]


def create_app(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    hasher: PasswordHasher | None = None,
    adapters: Adapters | None = None,
) -> Litestar:
    """Build the app; the container (pools, clients, background jobs) lives in its lifespan.

    `adapters` replaces the ones the settings would choose (e.g. `bootstrap.in_memory()` for
    the repositories); `hasher` is short for `Adapters(hasher=...)`.
    """
    settings = settings or load_settings()
    given = adapters or Adapters()
    if hasher is not None:
        given = replace(given, hasher=hasher)
    url = None if given.persistence is not None else database_url or settings.database_url
    if url is None and given.persistence is None:
        raise RuntimeError(
            "No database configured: start FAROS with `faros serve` (which starts the embedded "
            "PostgreSQL) or set FAROS_DATABASE_URL."
        )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        container: Container = build_container(settings, database_url=url, adapters=given)
        app.state.container = container
        running.start(container)
        # Only PostgreSQL announces new outbox messages; elsewhere the worker polls.
        jobs = BackgroundJobs(container.outbox, container.notifications, listen_url=url)
        if settings.outbox_worker:
            jobs.start()
        try:
            yield
        finally:
            await jobs.stop()
            await container.aclose()

    running = Running()
    app = Litestar(
        route_handlers=ROUTERS,
        dependencies=dependencies(running),
        lifespan=[lifespan],
        exception_handlers={**exception_handlers(), **outage_handlers(), **idempotency_handlers()},
        cors_config=cors_config(settings.cors_origins),
        middleware=[request_guard(settings.cors_origins, settings.cookie_name)],
        plugins=[ValidationPlugin()],
        # Logging is configured once by the CLI; Litestar must not replace the root handler.
        logging_config=None,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="FAROS",
            version=__version__,
            description="Task management API: tasks, sharing, comments, files, activity.",
            path="/docs",
            components=security_components(settings.cookie_name),
            operation_id_creator=operation_id,
            tags=TAGS,
            render_plugins=[FinishedJson(), swagger_ui()],
        ),
        debug=False,
    )
    install_connection_hand_over(app)
    # Outside Litestar's middleware stack, so 404s, 405s and preflights are logged too.
    install_preflight_status(app)
    install_request_log(app)
    return app

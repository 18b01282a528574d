"""Public service routes: `/`, `/health`, `/version`, `/favicon.ico`."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT, HTTP_503_SERVICE_UNAVAILABLE

from faros import __version__
from faros.entrypoints.bootstrap import Container
from faros.entrypoints.http.openapi import reply
from faros.entrypoints.http.openapi_document import served
from faros.entrypoints.http.schemas import HealthOut, RootOut, VersionOut
from faros.entrypoints.settings import Settings


@get(
    "/",
    summary="Say the API is running",
    description=(
        "Anyone. A fixed answer telling a client it reached FAROS; reads and changes nothing."
    ),
)
async def root() -> RootOut:
    return RootOut("Task Manager API", "running")


@get("/favicon.ico", status_code=HTTP_204_NO_CONTENT, include_in_schema=False)
async def favicon() -> None:
    return None


@get(
    "/health",
    summary="Check the service's health",
    description=(
        "Anyone. 200 when the database answers, 503 when it cannot be reached; Redis is "
        "reported (`connected`, `disconnected` or `disabled`) but not required."
    ),
    cache=False,
    responses={503: reply(HealthOut, "The database cannot be reached (D6)")},
)
async def health(state: State) -> Response[HealthOut]:
    """D6: 200 when the database answers, 503 when it does not; Redis is reported, not required."""
    # The pings are the container's own, not services a handler elsewhere would ask for.
    container: Container = state.container
    database_up = await container.database_ping()
    if container.redis_ping is None:
        redis = "disabled"
    else:
        redis = "connected" if await container.redis_ping() else "disconnected"
    if database_up:
        return Response(HealthOut("healthy", "connected", redis), status_code=HTTP_200_OK)
    return Response(
        HealthOut("unhealthy", "disconnected", redis), status_code=HTTP_503_SERVICE_UNAVAILABLE
    )


@get(
    "/version",
    summary="Get the API version",
    description=("Anyone. The running FAROS version and the name of its environment."),
)
async def version(settings: NamedDependency[Settings]) -> VersionOut:
    return VersionOut(__version__, settings.environment)


@get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The schema at the conventional path too (Litestar serves it under /docs as well)."""
    return served(request.app)


router = Router(
    path="/",
    route_handlers=[root, favicon, health, version, openapi_document],
    tags=["service"],
)

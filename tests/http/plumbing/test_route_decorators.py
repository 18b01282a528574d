"""Every route is declared with FAROS's decorators (entrypoints/http/routing.py), whose guard
call does not copy the route handler; and the guard still runs before each protected one."""

from __future__ import annotations

from litestar import Router
from litestar.handlers import HTTPRouteHandler

from faros.entrypoints.http import routing
from faros.entrypoints.http.app import ROUTERS
from faros.entrypoints.http.deps import authenticated

OURS = (routing.get, routing.post, routing.put, routing.patch, routing.delete)


def _handlers(router: Router) -> list[HTTPRouteHandler]:
    found: list[HTTPRouteHandler] = []
    for route in router.routes:
        found.extend(
            handler
            for handler in route.route_handlers
            # Litestar adds its own OPTIONS handler to every path (no guards).
            if isinstance(handler, HTTPRouteHandler) and handler.http_methods != {"OPTIONS"}
        )
    return found


def test_every_route_uses_the_guard_calling_decorators() -> None:
    handlers = [h for router in ROUTERS for h in _handlers(router)]
    assert len(handlers) > 40
    strangers = [h.handler_name for h in handlers if not isinstance(h, OURS)]
    assert strangers == []
    protected = [h for h in handlers if authenticated in h.resolve_guards()]
    assert len(protected) > 30

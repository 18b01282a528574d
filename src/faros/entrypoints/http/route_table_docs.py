"""Transitional: documents each route's error answers and security from `openapi.py`'s table
until the routes declare them on their decorators (#15 item 2); goes away with that table."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from litestar.openapi.spec import Operation
from litestar.plugins.base import ReceiveRoutePlugin
from litestar.routes import HTTPRoute

from faros.entrypoints.http.openapi import document_operation, route_key

if TYPE_CHECKING:
    from litestar.routes import BaseRoute


class RouteTableDocs(ReceiveRoutePlugin):
    """List it after `ValidationPlugin`; operations behind `auth_guard` are marked protected."""

    def __init__(self, auth_guard: Callable[..., Any]) -> None:
        self._auth_guard = auth_guard

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            if handler.include_in_schema:
                # Each FAROS handler serves one method; a multi-method one shares one table row.
                key = route_key(sorted(handler.http_methods)[0], route.path)
                protected = self._auth_guard in handler.resolve_guards()
                handler.operation_class = _documented(handler.operation_class, key, protected)


def _documented(base: type[Operation], key: str, protected: bool) -> type[Operation]:
    @dataclasses.dataclass
    class DocumentedOperation(base):  # type: ignore[valid-type,misc]
        def __post_init__(self) -> None:
            earlier = getattr(super(), "__post_init__", None)
            if earlier is not None:
                earlier()
            document_operation(self, key, protected=protected)

    return DocumentedOperation

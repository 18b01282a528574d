"""One database connection for an authenticated read, instead of two check-outs.

A protected route authenticates (one unit of work) and then runs its use case (another). For
requests that carry no body, the second unit of work takes over the first one's connection
(`PostgresUnitOfWorkFactory.handing_over`; adapters/postgres/connection_hand_over.py says why
through the request's context). Requests with a body are left alone: between the two units
of work the handler reads the body, and a slow client must not keep a pooled connection idle
meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from litestar.enums import ScopeType

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import ASGIApp, Receive, Scope, Send

_BODILESS_METHODS: Final = frozenset({"GET", "HEAD", "DELETE"})


class ConnectionHandOver:
    def __init__(self, app: ASGIApp, litestar: Litestar) -> None:
        self.app = app
        self.litestar = litestar

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] not in _BODILESS_METHODS:
            await self.app(scope, receive, send)
            return
        async with self.litestar.state.container.connection_hand_over():
            await self.app(scope, receive, send)


def install_connection_hand_over(app: Litestar) -> None:
    app.asgi_handler = ConnectionHandOver(app.asgi_handler, app)

"""Browser-facing protections: CORS (§1.11, D5) and the cookie CSRF check (D4).

CORS uses Litestar's own middleware, configured by `cors_config(origins)`. Litestar wraps its
exception middleware with it, so error responses (500s included) carry the CORS headers.
Litestar answers a preflight with 204 and refuses one with `Disallowed CORS Origin`;
`install_preflight_status(app)` rewrites those to the contract's 200 and
`Disallowed CORS origin` (§1.11). Non-preflight responses also carry
`Access-Control-Allow-Methods/-Headers`, which browsers ignore.

CSRF: the auth cookie is `SameSite=None` in production, so a third-party page can make the
browser send it. `CsrfMiddleware` refuses an unsafe request that authenticates by cookie
(no usable `Authorization: Bearer` header) unless its `Origin` — or, when the browser sent no
`Origin`, its `Referer` — is in the CORS allow-list. Bearer requests cannot be forged by a
page (it cannot read the token), and requests with neither credential fall through to the
401 of the auth guard. Install it as app middleware (`middleware=[csrf_middleware(...)]`):
it then runs after routing (unknown paths still 404) and before guards and body parsing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from litestar.config.cors import CORSConfig
from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.routes import HTTPRoute

if TYPE_CHECKING:
    from litestar import Litestar

if TYPE_CHECKING:
    from litestar.types import (
        ASGIApp,
        HTTPResponseBodyEvent,
        HTTPResponseStartEvent,
        Receive,
        Scope,
        Send,
    )

__all__ = [
    "CSRF_REFUSED",
    "DEFAULT_CORS_ORIGINS",
    "CsrfMiddleware",
    "cors_config",
    "csrf_middleware",
    "install_preflight_status",
    "parse_origins",
]

DEFAULT_CORS_ORIGINS: Final = (
    "http://localhost:5173",
    "http://127.0.0.1:5173",
    "http://localhost:5174",
    "http://127.0.0.1:5174",
)
CSRF_REFUSED: Final = "Cross-site request refused"

_UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_REFUSAL_BODY: Final = b'{"detail":"Cross-site request refused"}'
_REFUSAL_HEADERS: Final = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(_REFUSAL_BODY)).encode()),
]


def parse_origins(setting: str | None) -> tuple[str, ...]:
    """`FAROS_CORS_ORIGINS` (comma-separated) → origins; blank or unset → the D5 default."""
    if not setting or not setting.strip():
        return DEFAULT_CORS_ORIGINS
    return tuple(o.strip().rstrip("/") for o in setting.split(",") if o.strip())


def cors_config(origins: Iterable[str]) -> CORSConfig:
    """Exact-match origins, echoed with credentials; all methods; any request header."""
    return CORSConfig(
        allow_origins=list(origins),
        allow_methods=["*"],
        allow_headers=["*"],
        allow_credentials=True,
        expose_headers=[],
        max_age=600,
    )


def _origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of a Referer, as a browser would write it in `Origin`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if not scheme or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or _DEFAULT_PORTS.get(scheme) == port:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _has_bearer(value: bytes) -> bool:
    scheme, _, credential = value.partition(b" ")
    return scheme.lower() == b"bearer" and bool(credential.strip())


def _has_cookie(header: bytes, name: bytes) -> bool:
    for part in header.split(b";"):
        key, sep, value = part.strip().partition(b"=")
        if sep and key == name and value.strip().strip(b'"'):
            return True
    return False


class CsrfMiddleware:
    """Pure ASGI; safe methods and non-cookie requests pass with one scan of the headers."""

    def __init__(
        self, app: ASGIApp, *, allowed_origins: Iterable[str], cookie_name: str = "access_token"
    ) -> None:
        self.app = app
        self.allowed = frozenset(o.strip().rstrip("/").lower() for o in allowed_origins)
        self.cookie_name = cookie_name.encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] not in _UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        cookies: list[bytes] = []
        origin: bytes | None = None
        referer: bytes | None = None
        for key, value in scope["headers"]:
            if key == b"authorization":
                if _has_bearer(value):
                    await self.app(scope, receive, send)
                    return
            elif key == b"cookie":
                cookies.append(value)
            elif key == b"origin":
                origin = value
            elif key == b"referer":
                referer = value
        if not any(_has_cookie(c, self.cookie_name) for c in cookies) or self._same_site(
            origin, referer
        ):
            await self.app(scope, receive, send)
            return
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 403,
            "headers": _REFUSAL_HEADERS,
        }
        body: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": _REFUSAL_BODY,
            "more_body": False,
        }
        await send(start)
        await send(body)

    def _same_site(self, origin: bytes | None, referer: bytes | None) -> bool:
        if origin is not None:
            return origin.decode("latin-1").strip().lower() in self.allowed
        if referer is not None:
            source = _origin_of(referer.decode("latin-1").strip())
            return source is not None and source in self.allowed
        return False


def csrf_middleware(
    allowed_origins: Iterable[str], cookie_name: str = "access_token"
) -> DefineMiddleware:
    """`Litestar(middleware=[csrf_middleware(origins, settings.cookie_name)])`."""
    return DefineMiddleware(
        CsrfMiddleware, allowed_origins=tuple(allowed_origins), cookie_name=cookie_name
    )


_REFUSED_PREFLIGHT: Final = b"Disallowed CORS origin"
_TYPED_PARAMETER: Final = re.compile(r"\{(\w+):[^}]*\}")


class PreflightStatus:
    """Rewrites Litestar's preflight answers to the contract's (200; lower-case refusal text).

    A plain OPTIONS (not a preflight) gets an `Allow` header listing every method of the path:
    Litestar's own lists only the methods of the router that first registered the path, so
    `/notifications/verify` (GET and POST from one router, OPTIONS from the first) said
    `OPTIONS, POST`.
    """

    def __init__(self, app: ASGIApp, methods_by_path: Mapping[str, frozenset[str]]) -> None:
        self.app = app
        self.methods_by_path = methods_by_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        if not any(key == b"access-control-request-method" for key, _ in scope["headers"]):
            await self.app(scope, receive, self._with_allow(scope, send))
            return
        refused = False

        async def rewrite(message: Any) -> None:
            nonlocal refused
            if message["type"] == "http.response.start":
                if message["status"] == 204:
                    message = {**message, "status": 200}
                elif message["status"] == 400:
                    refused = True
                    message = {
                        **message,
                        "headers": [
                            (
                                k,
                                str(len(_REFUSED_PREFLIGHT)).encode()
                                if k == b"content-length"
                                else v,
                            )
                            for k, v in message.get("headers", [])
                        ],
                    }
            elif message["type"] == "http.response.body" and refused:
                message = {**message, "body": _REFUSED_PREFLIGHT}
            await send(message)

        await self.app(scope, receive, rewrite)

    def _with_allow(self, scope: Scope, send: Send) -> Send:
        async def rewrite(message: Any) -> None:
            if message["type"] == "http.response.start":
                methods = self.methods_by_path.get(str(scope.get("path_template", "")))
                if methods is not None:
                    allow = ", ".join(sorted(methods)).encode("latin-1")
                    message = {
                        **message,
                        "headers": [
                            (k, allow if k.lower() == b"allow" else v)
                            for k, v in message.get("headers", [])
                        ],
                    }
            await send(message)

        return rewrite


def install_preflight_status(app: Litestar) -> None:
    methods: dict[str, set[str]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            # Litestar's `scope["path_template"]` drops the `:type` of path parameters.
            template = _TYPED_PARAMETER.sub(r"{\1}", route.path)
            methods.setdefault(template, set()).update(route.methods)
    app.asgi_handler = PreflightStatus(
        app.asgi_handler, {path: frozenset(found) for path, found in methods.items()}
    )

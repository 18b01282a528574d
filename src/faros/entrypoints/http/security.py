"""Browser-facing protections: CORS (§1.11, D5), the cross-site check (D4), header parsing.

CORS uses Litestar's own middleware, configured by `cors_config(origins)`. Litestar wraps its
exception middleware with it, so error responses (500s included) carry the CORS headers.
Litestar answers a preflight with 204 and refuses one with `Disallowed CORS Origin`;
`install_preflight_status(app)` rewrites those to the contract's 200 and
`Disallowed CORS origin` (§1.11). Non-preflight responses also carry
`Access-Control-Allow-Methods/-Headers`, which browsers ignore.

`RequestGuard` reads the credentials and the browser's provenance headers once per request
(`Presented`) and leaves them in the scope, so the authentication guard uses exactly what the
cross-site check judged. A second `Origin` or `Authorization` header makes the request
ambiguous (which one would each reader take?): 400 `{"detail":"Duplicate Origin header"}`.

Cross-site check (D4 as amended, after Go's `net/http.CrossOriginProtection`): the auth cookie
is `SameSite=None` in production, so a third-party page can make the browser send it. An
unsafe request that authenticates by cookie (no usable `Authorization: Bearer`) — and any
unsafe request to login or registration — is refused 403 when its `Origin` is present and not
in the allow-list, or, without `Origin`, when `Sec-Fetch-Site` says `cross-site` or
`same-site`. A request with neither header was not sent by a browser and passes, and so does
one whose `Origin` is FAROS's own (its `/docs` page), as Go's check lets same-origin through. Bearer
requests cannot be forged by a page (it cannot read the token).

Install it as app middleware (`middleware=[request_guard(...)]`): it then runs after routing
(unknown paths still 404) and before guards and body parsing. Refusals are raised as domain
errors, so each is a fresh response built by the exception handlers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from litestar.config.cors import CORSConfig
from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.routes import HTTPRoute

from faros.domain.errors import Forbidden, Invalid

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "ALWAYS_CHECK_ORIGIN",
    "CSRF_REFUSED",
    "Presented",
    "RequestGuard",
    "cors_config",
    "install_preflight_status",
    "presented_in",
    "read_presented",
    "request_guard",
]

CSRF_REFUSED: Final = "Cross-site request refused"
# Route `opt` key: check the origin even without the auth cookie (login and registration,
# so a foreign page cannot sign a browser into the attacker's account).
ALWAYS_CHECK_ORIGIN: Final = "faros_always_check_origin"

_UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CROSS_SITE: Final = frozenset({b"cross-site", b"same-site"})
_STATE_KEY: Final = "faros.presented"


def cors_config(origins: Iterable[str]) -> CORSConfig:
    """Exact-match origins, echoed with credentials; all methods; any request header.

    `*` (development only: the settings refuse it in production) means any origin without
    credentials: Litestar would otherwise echo every origin of a cookie request together
    with `Access-Control-Allow-Credentials: true`.
    """
    allowed = list(origins)
    wildcard = "*" in allowed
    return CORSConfig(
        allow_origins=["*"] if wildcard else allowed,
        allow_methods=["*"],
        allow_headers=["*"],
        allow_credentials=not wildcard,
        expose_headers=[],
        max_age=600,
    )


@dataclass(frozen=True, slots=True)
class Presented:
    """What a request presents, read once from its raw headers.

    `bearer` is the credential of a usable `Authorization: Bearer` header; `cookie` the auth
    cookie's value, read only when there is no bearer (§1.3: bearer first). `origin` is the
    lone `Origin` header, stripped and lower-cased; `cross_site` says whether a
    `Sec-Fetch-Site` header named another site. `duplicate` names a header sent twice.
    """

    bearer: str | None
    cookie: str | None
    origin: bytes | None
    cross_site: bool
    duplicate: str | None

    @property
    def token(self) -> str | None:
        return self.bearer if self.bearer is not None else self.cookie


def read_presented(headers: Iterable[tuple[bytes, bytes]], cookie_name: bytes) -> Presented:
    """One pass over the ASGI header list (names are lower-case, as ASGI servers send them)."""
    authorization: bytes | None = None
    origin: bytes | None = None
    cookies: list[bytes] = []
    cross_site = False
    duplicate: str | None = None
    for key, value in headers:
        if key == b"authorization":
            if authorization is not None:
                duplicate = "Authorization"
            authorization = value
        elif key == b"cookie":
            cookies.append(value)
        elif key == b"origin":
            if origin is not None:
                duplicate = "Origin"
            origin = value
        elif key == b"sec-fetch-site" and _names_another_site(value):
            # Duplicates are not refused: any cross-site claim counts.
            cross_site = True
    bearer = _bearer(authorization) if authorization is not None else None
    cookie = _cookie(cookies, cookie_name) if bearer is None and cookies else None
    return Presented(
        bearer=bearer,
        cookie=cookie,
        origin=origin.strip().lower() if origin is not None else None,
        cross_site=cross_site,
        duplicate=duplicate,
    )


def presented_in(scope: Scope) -> Presented | None:
    """What `RequestGuard` read for this request (None outside its reach)."""
    found: Presented | None = scope.get("state", {}).get(_STATE_KEY)
    return found


def _names_another_site(value: bytes) -> bool:
    """`cross-site` or `same-site`, also inside a list a proxy made of repeated headers."""
    return any(item.strip().lower() in _CROSS_SITE for item in value.split(b","))


def _bearer(value: bytes) -> str | None:
    scheme, _, credential = value.partition(b" ")
    credential = credential.strip()
    if scheme.lower() != b"bearer" or not credential:
        return None
    return credential.decode("latin-1")


def _cookie(headers: list[bytes], name: bytes) -> str | None:
    """The first non-empty value of the cookie `name` across every Cookie header.

    Names are compared after trimming (`access_token =x` is the cookie, as browsers and
    Litestar's parser read it) and one pair of double quotes is dropped. A browser may send
    the name twice (cookies of different paths); it lists the most specific first.
    """
    for header in headers:
        for part in header.split(b";"):
            key, sep, value = part.partition(b"=")
            if sep and key.strip() == name:
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == 0x22:
                    value = value[1:-1]
                if value:
                    return value.decode("latin-1")
    return None


class RequestGuard:
    """Pure ASGI: reads `Presented`, refuses duplicates and cross-site writes (D4)."""

    def __init__(
        self, app: ASGIApp, *, allowed_origins: Iterable[str], cookie_name: str = "access_token"
    ) -> None:
        self.app = app
        # `*` is never a match: it opens reading (CORS), never cookie writes; nor is `null`
        # (sandboxed frames, `data:` pages: any page can be one). The settings drop both.
        self.allowed = frozenset(
            o.strip().rstrip("/").lower().encode("latin-1")
            for o in allowed_origins
            if o.strip().lower() not in {"*", "null"}
        )
        self.cookie_name = cookie_name.encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        presented = read_presented(scope["headers"], self.cookie_name)
        scope.setdefault("state", {})[_STATE_KEY] = presented
        if presented.duplicate is not None:
            raise Invalid(f"Duplicate {presented.duplicate} header")
        if (
            scope["method"] in _UNSAFE_METHODS
            and presented.bearer is None
            and (presented.cookie is not None or _always_checked(scope))
            and self._cross_site(presented)
            and not _same_origin(scope, presented)
        ):
            raise Forbidden(CSRF_REFUSED)
        await self.app(scope, receive, send)

    def _cross_site(self, presented: Presented) -> bool:
        if presented.origin is not None:
            return presented.origin not in self.allowed
        return presented.cross_site


def _same_origin(scope: Scope, presented: Presented) -> bool:
    """A page of FAROS's own origin (the `/docs` UI's "Try it out") wrote: nothing to forge.

    Its `Origin` is the request's own scheme and `Host`, and no `Sec-Fetch-Site` says
    otherwise; a browser sets both headers itself, so no other page can claim this.
    """
    if presented.origin is None or presented.cross_site:
        return False
    host = next((value for key, value in scope["headers"] if key == b"host"), None)
    if host is None:
        return False
    own = scope["scheme"].encode("latin-1") + b"://" + host.strip().lower()
    return presented.origin == own


def _always_checked(scope: Scope) -> bool:
    # App middleware runs after routing, so the handler is known.
    return bool(scope["route_handler"].opt.get(ALWAYS_CHECK_ORIGIN))


def request_guard(
    allowed_origins: Iterable[str], cookie_name: str = "access_token"
) -> DefineMiddleware:
    """`Litestar(middleware=[request_guard(origins, settings.cookie_name)])`."""
    return DefineMiddleware(
        RequestGuard, allowed_origins=tuple(allowed_origins), cookie_name=cookie_name
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

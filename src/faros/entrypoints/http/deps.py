"""What handlers receive: services, the caller, client identity, rate limits, cookies.

`dependencies(running)` declares, once for the app, one Litestar dependency per name a handler
may ask for (`tasks: TaskService`, `user: User`, `limits: RateLimits`, ...); the services come
from the container the lifespan built. Authentication stays a guard
(`authenticated`), so 401 comes before any body is decoded (§1.8); the `user` dependency only
hands on what the guard stored.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from typing import Any, Final

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler

from faros.domain.api_tokens import ApiToken, allow, is_personal
from faros.domain.errors import AuthenticationFailed, Invalid
from faros.domain.services.accounts import INVALID_TOKEN, AccountService
from faros.domain.services.activity import ActivityService
from faros.domain.services.api_tokens import ApiTokenService
from faros.domain.services.comments import CommentService
from faros.domain.services.files import FileService
from faros.domain.services.notifications import NotificationService
from faros.domain.services.sharing import SharingService
from faros.domain.services.tasks import TaskService
from faros.domain.services.webhooks import WebhookService
from faros.domain.users import User
from faros.entrypoints.bootstrap import Container
from faros.entrypoints.http.errors import RateLimitExceeded, ratelimit_policy
from faros.entrypoints.http.scopes import requirement
from faros.entrypoints.http.security import Presented, presented_in, read_presented
from faros.entrypoints.http.validation import parse_query
from faros.entrypoints.settings import Settings
from faros.ports.rate_limiter import RateLimit, RateLimiter

logger = logging.getLogger("faros.http")

NOT_AUTHENTICATED = "Not authenticated"
API_TOKEN: Final = "faros.api_token"  # noqa: S105 - a scope key, not a secret
"""Where the guard leaves the access token a request came with (absent for a JWT or cookie)."""


def _container(connection: ASGIConnection[Any, Any, Any, Any]) -> Container:
    # Only guards and request-reading providers look here; handlers receive dependencies.
    found: Container = connection.app.state.container
    return found


def presented(connection: ASGIConnection[Any, Any, Any, Any]) -> Presented:
    """The credentials `RequestGuard` read and judged; read here only outside its reach."""
    found = presented_in(connection.scope)
    if found is None:
        name = _container(connection).settings.cookie_name.encode("latin-1")
        found = read_presented(connection.scope["headers"], name)
        if found.duplicate is not None:
            raise Invalid(f"Duplicate {found.duplicate} header")
    return found


def presented_token(request: Request[Any, Any, Any]) -> str | None:
    """Bearer first; the cookie only when there is no usable Authorization header (§1.3)."""
    return presented(request).token


async def authenticated(
    connection: ASGIConnection[Any, Any, Any, Any], route: BaseRouteHandler
) -> None:
    """Guard for protected routes: runs before body and query validation, as §1.8 orders."""
    found = presented(connection)
    token = found.token
    if token is None:
        raise AuthenticationFailed(NOT_AUTHENTICATED)
    if found.bearer is None and is_personal(token):
        # Access tokens are for scripts, sent as a header; a cookie is sent by browsers on
        # their own (D4's cross-site rules guard only sessions), so one there is refused.
        raise AuthenticationFailed(INVALID_TOKEN)
    user, api_token = await _container(connection).accounts.identify(token)
    if api_token is not None:
        # Only an access token is limited by scopes (scopes.py); a login may do anything.
        # OPTIONS (Litestar's own handler) only lists a path's methods: any token may ask.
        if connection.scope.get("method") != "OPTIONS":
            need = requirement(connection.scope["path_template"], route.opt, route.handler_name)
            allow(api_token.scopes, need)
        connection.scope[API_TOKEN] = api_token  # type: ignore[typeddict-unknown-key]
    connection.scope["user"] = user


def client_address(request: Request[Any, Any, Any]) -> str:
    """The peer address, or the nearest untrusted hop of X-Forwarded-For behind our proxies.

    Only a peer listed in FAROS_TRUSTED_PROXIES (addresses or networks) is believed; anyone
    else could name any address and get a fresh rate-limit budget per request. The chain is
    read from the right (each proxy appends the address it saw), skipping our own proxies; a
    malformed hop ends the walk at the peer rather than trusting what lies beyond it.
    """
    peer = request.client.host if request.client else "unknown"
    trusted = _trusted_networks(_container(request).settings.trusted_proxies)
    if not trusted or not _within(_parsed(peer), trusted):
        return peer
    # A proxy may add its own header line instead of extending the first one; order is kept.
    forwarded = ",".join(request.headers.getall("x-forwarded-for", []))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _parsed(hop)
        if address is None:
            break
        if not _within(address, trusted):
            return str(address)
    return peer


_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=4)
def _trusted_networks(entries: tuple[str, ...]) -> tuple[_Network, ...]:
    """FAROS_TRUSTED_PROXIES parsed once: `10.0.0.7`, `10.0.0.0/8`, `::1` all work."""
    networks: list[_Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            logger.warning("FAROS_TRUSTED_PROXIES: %r is not an address or network; ignored", entry)
    return tuple(networks)


def _parsed(text: str) -> _Address | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
    return address


def _within(address: _Address | None, networks: tuple[_Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


class RateLimits:
    """Counts requests against per-route budgets (D18); `None` when limits are switched off."""

    __slots__ = ("_limiter", "_token_id")

    def __init__(self, limiter: RateLimiter | None, token_id: int | None = None) -> None:
        self._limiter = limiter
        self._token_id = token_id

    def for_token(self, token_id: int) -> RateLimits:
        """The same budgets, counted for one access token instead of its user."""
        return RateLimits(self._limiter, token_id)

    async def spend(self, limit: RateLimit, bucket: str, identity: str) -> None:
        """Count this request against `identity`'s budget for `bucket`; 429 when it is spent."""
        if self._limiter is None:
            return
        decision = await self._limiter.hit(limit, f"{bucket}:{identity}")
        if not decision.allowed:
            raise RateLimitExceeded(
                limit.text,
                retry_after=max(1, decision.reset_after_seconds),
                policy=ratelimit_policy(bucket, limit.amount, limit.per_seconds),
                remaining=decision.remaining,
                reset=max(1, decision.reset_after_seconds),
            )

    async def by_ip(self, client: str, limit: RateLimit, bucket: str) -> None:
        await self.spend(limit, bucket, f"ip_{client}")

    async def by_user(self, user: User, limit: RateLimit, bucket: str) -> None:
        """Per user; a request with an access token counts against that token's own budget,
        so one script cannot spend what the user's browser or other scripts need."""
        if self._token_id is not None:
            await self.spend(limit, bucket, f"token_{self._token_id}")
            return
        await self.spend(limit, bucket, f"user_{user.id}")


class Running:
    """What the lifespan built, for the dependencies: set at start-up, read per request."""

    __slots__ = ("_container", "_limits")

    def __init__(self) -> None:
        self._container: Container | None = None
        self._limits = RateLimits(None)

    def start(self, container: Container) -> None:
        self._container = container
        enabled = container.settings.rate_limits
        self._limits = RateLimits(container.rate_limiter if enabled else None)

    @property
    def container(self) -> Container:
        if self._container is None:
            raise RuntimeError("The app's lifespan has not started")
        return self._container

    @property
    def limits(self) -> RateLimits:
        return self._limits


def route_query(request: Request[Any, Any, Any]) -> Any:
    """The query string read into the route's `query=` Struct (422 in the contract's format).

    The raw string, not Litestar's parsed query: blank values are kept (`limit=` is a 422) and
    the last repeat wins. `None` on routes that declare no query.
    """
    shape = request.route_handler.opt.get("query")
    if shape is None:
        return None
    return parse_query(shape, request.scope["query_string"])


def caller(request: Request[Any, Any, Any], limits: NamedDependency[RateLimits]) -> User | None:
    """The user the `authenticated` guard found; `None` on public routes.

    Naming `limits` (which needs nothing) only orders the two: see `dependencies`.
    """
    user: User | None = request.scope.get("user")
    return user


def caller_after_query(
    request: Request[Any, Any, Any], params: NamedDependency[Any]
) -> User | None:
    """`caller` for routes that read a query: the query first, then the caller, in turn."""
    user: User | None = request.scope.get("user")
    return user


QUERY_FIRST: Final = {"user": Provide(caller_after_query, sync_to_thread=False)}
"""`dependencies=` of the routes that declare a `query=`: resolves `params` before `user`."""


def dependencies(running: Running) -> dict[str, Provide]:
    """Every name a handler may ask for, read from the request or from what the lifespan built.

    Litestar resolves dependencies that do not depend on each other concurrently, in a task
    group per request, which costs more than all these providers do together. So they form
    chains, resolved in turn: `limits` (which needs nothing), then the caller, then the
    services (which name the caller); routes that read a query resolve it before the caller
    (`QUERY_FIRST`). Bodies are not dependencies: `data:` parameters are decoded first. Plain
    synchronous providers run inline (`sync_to_thread=False`): they only read attributes.
    """

    def limits(request: Request[Any, Any, Any]) -> RateLimits:
        api_token: ApiToken | None = request.scope.get(API_TOKEN)  # type: ignore[assignment]
        if api_token is None:
            return running.limits
        return running.limits.for_token(api_token.id)

    def settings(user: NamedDependency[User | None]) -> Settings:
        return running.container.settings

    def accounts(user: NamedDependency[User | None]) -> AccountService:
        return running.container.accounts

    def tasks(user: NamedDependency[User | None]) -> TaskService:
        return running.container.tasks

    def sharing(user: NamedDependency[User | None]) -> SharingService:
        return running.container.sharing

    def comments(user: NamedDependency[User | None]) -> CommentService:
        return running.container.comments

    def files(user: NamedDependency[User | None]) -> FileService:
        return running.container.files

    def notifications(user: NamedDependency[User | None]) -> NotificationService:
        return running.container.notifications

    def activity(user: NamedDependency[User | None]) -> ActivityService:
        return running.container.activity

    def api_tokens(user: NamedDependency[User | None]) -> ApiTokenService:
        return running.container.api_tokens

    def webhooks(user: NamedDependency[User | None]) -> WebhookService:
        return running.container.webhooks

    providers: dict[str, Any] = {
        "limits": limits,
        "user": caller,
        "params": route_query,
        "settings": settings,
        "accounts": accounts,
        "tasks": tasks,
        "sharing": sharing,
        "comments": comments,
        "files": files,
        "notifications": notifications,
        "activity": activity,
        "api_tokens": api_tokens,
        "webhooks": webhooks,
        "client": client_address,
        "token": presented_token,
    }
    return {name: Provide(provider, sync_to_thread=False) for name, provider in providers.items()}


def set_auth_cookie(settings: Settings, response: Response[Any], token: str) -> None:
    response.set_cookie(
        key=settings.cookie_name,
        value=token,
        max_age=settings.access_token_minutes * 60,
        path="/",
        domain=settings.cookie_domain,
        secure=settings.cookie_secure,
        httponly=True,
        samesite=settings.cookie_samesite,
    )


def clear_auth_cookie(settings: Settings, response: Response[Any]) -> None:
    """Expire the cookie with the attributes it was set with, so browsers accept it (D3)."""
    response.set_cookie(
        key=settings.cookie_name,
        value="",
        max_age=0,
        expires=0,
        path="/",
        domain=settings.cookie_domain,
        secure=settings.cookie_secure,
        httponly=True,
        samesite=settings.cookie_samesite,
    )

"""What every controller needs: the container, the caller, client identity, limits, cookies."""

from __future__ import annotations

import functools
import ipaddress
import logging
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from faros.domain.errors import AuthenticationFailed, Invalid
from faros.domain.users import User
from faros.entrypoints.bootstrap import Container
from faros.entrypoints.http.errors import RateLimitExceeded, ratelimit_policy
from faros.entrypoints.http.security import Presented, presented_in, read_presented
from faros.ports.rate_limiter import RateLimit

logger = logging.getLogger("faros.http")

NOT_AUTHENTICATED = "Not authenticated"


def container_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Container:
    found: Container = connection.app.state.container
    return found


def presented(connection: ASGIConnection[Any, Any, Any, Any]) -> Presented:
    """The credentials `RequestGuard` read and judged; read here only outside its reach."""
    found = presented_in(connection.scope)
    if found is None:
        name = container_of(connection).settings.cookie_name.encode("latin-1")
        found = read_presented(connection.scope["headers"], name)
        if found.duplicate is not None:
            raise Invalid(f"Duplicate {found.duplicate} header")
    return found


def presented_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """Bearer first; the cookie only when there is no usable Authorization header (§1.3)."""
    return presented(connection).token


async def authenticated(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard for protected routes: runs before body and query validation, as §1.8 orders."""
    token = presented_token(connection)
    if token is None:
        raise AuthenticationFailed(NOT_AUTHENTICATED)
    user = await container_of(connection).accounts.authenticate(token)
    connection.scope["user"] = user


def caller(request: Request[Any, Any, Any]) -> User:
    user: User = request.scope["user"]
    return user


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The peer address, or the nearest untrusted hop of X-Forwarded-For behind our proxies.

    Only a peer listed in FAROS_TRUSTED_PROXIES (addresses or networks) is believed; anyone
    else could name any address and get a fresh rate-limit budget per request. The chain is
    read from the right (each proxy appends the address it saw), skipping our own proxies; a
    malformed hop ends the walk at the peer rather than trusting what lies beyond it.
    """
    peer = connection.client.host if connection.client else "unknown"
    trusted = _trusted_networks(container_of(connection).settings.trusted_proxies)
    if not trusted or not _within(_parsed(peer), trusted):
        return peer
    # A proxy may add its own header line instead of extending the first one; order is kept.
    forwarded = ",".join(connection.headers.getall("x-forwarded-for", []))
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


async def enforce_limit(
    connection: ASGIConnection[Any, Any, Any, Any], limit: RateLimit, bucket: str, identity: str
) -> None:
    """Count this request against `identity`'s budget for `bucket`; 429 when it is spent."""
    container = container_of(connection)
    if not container.settings.rate_limits:
        return
    decision = await container.rate_limiter.hit(limit, f"{bucket}:{identity}")
    if not decision.allowed:
        raise RateLimitExceeded(
            limit.text,
            retry_after=max(1, decision.reset_after_seconds),
            policy=ratelimit_policy(bucket, limit.amount, limit.per_seconds),
            remaining=decision.remaining,
            reset=max(1, decision.reset_after_seconds),
        )


async def limit_by_ip(
    connection: ASGIConnection[Any, Any, Any, Any], limit: RateLimit, bucket: str
) -> None:
    await enforce_limit(connection, limit, bucket, f"ip_{client_address(connection)}")


async def limit_by_user(request: Request[Any, Any, Any], limit: RateLimit, bucket: str) -> None:
    await enforce_limit(request, limit, bucket, f"user_{caller(request).id}")


def set_auth_cookie(
    connection: ASGIConnection[Any, Any, Any, Any], response: Response[Any], token: str
) -> None:
    settings = container_of(connection).settings
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


def clear_auth_cookie(
    connection: ASGIConnection[Any, Any, Any, Any], response: Response[Any]
) -> None:
    """Expire the cookie with the attributes it was set with, so browsers accept it (D3)."""
    settings = container_of(connection).settings
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

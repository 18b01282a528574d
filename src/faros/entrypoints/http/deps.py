"""What every controller needs: the container, the caller, client identity, limits, cookies."""

from __future__ import annotations

import ipaddress
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from faros.domain.errors import AuthenticationFailed
from faros.domain.users import User
from faros.entrypoints.bootstrap import Container
from faros.entrypoints.http.errors import RateLimitExceeded
from faros.ports.rate_limiter import RateLimit

NOT_AUTHENTICATED = "Not authenticated"


def container_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Container:
    found: Container = connection.app.state.container
    return found


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The credential of an `Authorization: Bearer <token>` header (scheme case-insensitive)."""
    header = connection.headers.get("authorization")
    if not header:
        return None
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        return None
    return credential


def presented_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """Bearer first; the cookie only when there is no usable Authorization header (§1.3)."""
    token = bearer_token(connection)
    if token is not None:
        return token
    name = container_of(connection).settings.cookie_name
    return connection.cookies.get(name) or None


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
    """The peer address, or the nearest untrusted hop of X-Forwarded-For behind our proxies."""
    peer = connection.client.host if connection.client else "unknown"
    trusted = container_of(connection).settings.trusted_proxies
    if not trusted or peer not in trusted:
        return peer
    forwarded = connection.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop in trusted:
            continue
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            break
    return peer


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
            policy=f'"{bucket}";q={limit.amount};w={limit.per_seconds}',
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

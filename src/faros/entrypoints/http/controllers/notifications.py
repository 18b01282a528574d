"""`/notifications`: preferences, subscription, e-mail verification."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Router, get, patch, post
from litestar.response import Redirect
from litestar.status_codes import HTTP_200_OK, HTTP_302_FOUND

from faros.domain.errors import Invalid
from faros.entrypoints.http.deps import (
    authenticated,
    caller,
    container_of,
    limit_by_ip,
    limit_by_user,
)
from faros.entrypoints.http.io import read_body, read_query
from faros.entrypoints.http.schemas import (
    PreferencesIn,
    PreferencesOut,
    SendVerificationOut,
    SubscribeOut,
    VerifyIn,
    VerifyOut,
    VerifyQuery,
    out,
)
from faros.ports.rate_limiter import RateLimit

VERIFY_LIMIT = RateLimit(5, 60)
SEND_VERIFICATION_LIMIT = RateLimit(5, 60)
SUBSCRIBED = (
    "You are now subscribed to notifications. You will receive emails based on your preferences."
)


@get("/preferences")
async def get_preferences(request: Request[Any, Any, Any]) -> PreferencesOut:
    preferences = await container_of(request).notifications.preferences(caller(request))
    return out(preferences, PreferencesOut)


@patch("/preferences", body=PreferencesIn)
async def update_preferences(request: Request[Any, Any, Any]) -> PreferencesOut:
    data = await read_body(request, PreferencesIn)
    preferences = await container_of(request).notifications.update_preferences(
        caller(request), data.values()
    )
    return out(preferences, PreferencesOut)


@post("/subscribe", status_code=HTTP_200_OK)
async def subscribe(request: Request[Any, Any, Any]) -> SubscribeOut:
    return SubscribeOut(SUBSCRIBED, caller(request).email)


@post("/send-verification", status_code=HTTP_200_OK)
async def send_verification(request: Request[Any, Any, Any]) -> SendVerificationOut:
    await limit_by_user(request, SEND_VERIFICATION_LIMIT, "send-verification")
    user = caller(request)
    await container_of(request).notifications.send_verification(user)
    return SendVerificationOut("Verification email sent", user.email, "24 hours")


protected = Router(
    path="/notifications",
    route_handlers=[get_preferences, update_preferences, subscribe, send_verification],
    guards=[authenticated],
    tags=["notifications"],
)


@post("/verify", status_code=HTTP_200_OK, body=VerifyIn)
async def verify_by_post(request: Request[Any, Any, Any]) -> VerifyOut:
    data = await read_body(request, VerifyIn)
    await limit_by_ip(request, VERIFY_LIMIT, "verify-email")
    username = await container_of(request).notifications.verify_email(data.token)
    return VerifyOut("Email verified successfully", username)


@get("/verify", query=VerifyQuery, status_code=HTTP_302_FOUND)
async def verify_by_link(request: Request[Any, Any, Any]) -> Redirect:
    """Old e-mail links: always a redirect to the frontend, success or not (D16)."""
    container = container_of(request)
    login = f"{container.settings.frontend_url}/login"
    params = read_query(request, VerifyQuery)
    await limit_by_ip(request, VERIFY_LIMIT, "verify-email")
    try:
        username = await container.notifications.verify_email(params.token)
    except Invalid:
        return Redirect(f"{login}?emailVerified=false&error=invalid_or_expired")
    return Redirect(f"{login}?emailVerified=true&username={quote(username, safe='')}")


public = Router(
    path="/notifications", route_handlers=[verify_by_post, verify_by_link], tags=["notifications"]
)

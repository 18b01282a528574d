"""`/notifications`: preferences, subscription, e-mail verification."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from litestar import Router, get, patch, post
from litestar.di import NamedDependency
from litestar.response import Redirect
from litestar.status_codes import HTTP_200_OK, HTTP_302_FOUND

from faros.domain.errors import Invalid
from faros.domain.services.notifications import NotificationService
from faros.domain.users import User
from faros.entrypoints.http.deps import QUERY_FIRST, RateLimits, authenticated
from faros.entrypoints.http.error_bodies import Detail
from faros.entrypoints.http.io import contract_body
from faros.entrypoints.http.openapi import (
    INVALID,
    PROTECTED,
    protected_errors,
    public_errors,
    reply,
)
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
from faros.entrypoints.settings import Settings
from faros.ports.rate_limiter import RateLimit

VERIFY_LIMIT = RateLimit(5, 60)
SEND_VERIFICATION_LIMIT = RateLimit(5, 60)
SUBSCRIBED = (
    "You are now subscribed to notifications. You will receive emails based on your preferences."
)


@get(
    "/preferences",
    summary="Get your notification preferences",
    description=(
        "Any authenticated user. Their e-mail preferences, created with the defaults on first read."
    ),
    responses=protected_errors(writes=False),
)
async def get_preferences(
    notifications: NamedDependency[NotificationService], user: NamedDependency[User]
) -> PreferencesOut:
    return out(await notifications.preferences(user), PreferencesOut)


@patch(
    "/preferences",
    summary="Update your notification preferences",
    description=(
        "Any authenticated user. Sets only the flags sent (`email_enabled`, "
        "`task_shared_with_me`, `task_completed`, `comment_on_my_task`, `task_due_soon`); "
        "other keys, `email_verified` among them, are ignored."
    ),
    responses=protected_errors(writes=True, body=True),
)
async def update_preferences(
    data: Annotated[PreferencesIn, contract_body(PreferencesIn)],
    notifications: NamedDependency[NotificationService],
    user: NamedDependency[User],
) -> PreferencesOut:
    preferences = await notifications.update_preferences(user, data.values())
    return out(preferences, PreferencesOut)


@post(
    "/subscribe",
    summary="Subscribe to notifications (no effect)",
    description=(
        "Any authenticated user. Kept for older clients: changes nothing and answers the "
        "caller's e-mail address; the preferences decide what is sent."
    ),
    status_code=HTTP_200_OK,
    responses=protected_errors(writes=True),
)
async def subscribe(user: NamedDependency[User]) -> SubscribeOut:
    return SubscribeOut(SUBSCRIBED, user.email)


@post(
    "/send-verification",
    summary="Send an e-mail verification link",
    description=(
        "Any authenticated user (5 per minute). E-mails them a single-use verification link "
        "valid for 24 hours that voids any earlier one."
    ),
    status_code=HTTP_200_OK,
    responses=protected_errors(writes=True, limited=True),
)
async def send_verification(
    notifications: NamedDependency[NotificationService],
    user: NamedDependency[User],
    limits: NamedDependency[RateLimits],
) -> SendVerificationOut:
    await limits.by_user(user, SEND_VERIFICATION_LIMIT, "send-verification")
    await notifications.send_verification(user)
    return SendVerificationOut("Verification email sent", user.email, "24 hours")


protected = Router(
    path="/notifications",
    route_handlers=[get_preferences, update_preferences, subscribe, send_verification],
    guards=[authenticated],
    security=PROTECTED,
    tags=["notifications"],
)


@post(
    "/verify",
    summary="Verify an e-mail address",
    description=(
        "Anyone holding the token of a verification e-mail (5 per minute per address). Marks "
        "the account's address as verified, which event e-mails need, and uses up the token."
    ),
    status_code=HTTP_200_OK,
    responses={
        **public_errors(writes=True, body=True, limited=True),
        400: reply(Detail, "Invalid or expired verification token"),
    },
)
async def verify_by_post(
    data: Annotated[VerifyIn, contract_body(VerifyIn)],
    notifications: NamedDependency[NotificationService],
    limits: NamedDependency[RateLimits],
    client: NamedDependency[str],
) -> VerifyOut:
    await limits.by_ip(client, VERIFY_LIMIT, "verify-email")
    username = await notifications.verify_email(data.token)
    return VerifyOut("Email verified successfully", username)


@get(
    "/verify",
    summary="Verify an e-mail address from an old link",
    description=(
        "Anyone (5 per minute per address); kept for links in older e-mails. Verifies like "
        "`POST /notifications/verify`, then redirects (302) to the frontend's login page, "
        "saying whether it worked."
    ),
    query=VerifyQuery,
    dependencies=QUERY_FIRST,
    status_code=HTTP_302_FOUND,
    responses={**public_errors(writes=False, limited=True), 422: INVALID},
)
async def verify_by_link(
    params: NamedDependency[VerifyQuery],
    notifications: NamedDependency[NotificationService],
    limits: NamedDependency[RateLimits],
    client: NamedDependency[str],
    settings: NamedDependency[Settings],
) -> Redirect:
    """Old e-mail links: always a redirect to the frontend, success or not (D16)."""
    login = f"{settings.frontend_url}/login"
    await limits.by_ip(client, VERIFY_LIMIT, "verify-email")
    try:
        username = await notifications.verify_email(params.token)
    except Invalid:
        return Redirect(f"{login}?emailVerified=false&error=invalid_or_expired")
    return Redirect(f"{login}?emailVerified=true&username={quote(username, safe='')}")


public = Router(
    path="/notifications", route_handlers=[verify_by_post, verify_by_link], tags=["notifications"]
)

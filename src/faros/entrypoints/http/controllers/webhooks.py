"""Webhooks: `/webhooks[/{id}]`, their deliveries, redelivery and ping (issue 17).

Only a login manages webhooks: the router carries `opt={"login_only": True}` for the guard
that tells a login from a personal access token.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from faros.domain.errors import NotFound
from faros.domain.services.webhooks import DELIVERY_NOT_FOUND, WEBHOOK_NOT_FOUND, WebhookService
from faros.domain.users import User
from faros.domain.webhooks import Delivery, Webhook
from faros.entrypoints.http.controllers.created import created
from faros.entrypoints.http.deps import RateLimits, authenticated
from faros.entrypoints.http.error_bodies import Detail
from faros.entrypoints.http.idempotency import idempotent, idempotent_call
from faros.entrypoints.http.io import contract_body
from faros.entrypoints.http.openapi import (
    INVALID,
    PROTECTED,
    RATE_LIMITED,
    location,
    protected_errors,
    reply,
)
from faros.entrypoints.http.schemas import out, out_list
from faros.entrypoints.http.validation import IntPath, path_int
from faros.entrypoints.http.webhook_schemas import (
    DeliveryOut,
    WebhookCreatedOut,
    WebhookCreateIn,
    WebhookOut,
    WebhookQueuedOut,
    WebhookUpdateIn,
)
from faros.ports.rate_limiter import RateLimit

NOT_FOUND = reply(Detail, "Webhook not found (or not yours)")
DELIVERY_OR_WEBHOOK_NOT_FOUND = reply(Detail, "Webhook or delivery not found")
# Each ping or redelivery makes FAROS call out to the receiver.
SEND_LIMIT = RateLimit(10, 60)
CREATE_LIMIT = RateLimit(10, 60)


def _webhook_id(raw: str) -> int:
    return path_int("webhook_id", raw, not_found=lambda _: NotFound(WEBHOOK_NOT_FOUND))


def _delivery_id(raw: str) -> int:
    return path_int("delivery_id", raw, not_found=lambda _: NotFound(DELIVERY_NOT_FOUND))


def _delivery_out(delivery: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        event_id=delivery.event_id,
        event=delivery.event_type,
        status=delivery.status,
        response_code=delivery.response_code,
        duration_ms=delivery.duration_ms,
        attempt=delivery.attempt,
        error=delivery.error,
        created_at=delivery.created_at,
    )


@idempotent
@post(
    "/",
    summary="Create a webhook",
    description=(
        "Subscribes `url` to events about your tasks and the tasks shared with you. Answers "
        "with the webhook and its signing `secret`, shown this once: deliveries are signed by "
        "the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`, "
        "`webhook-signature`). The URL must be `https` (`http` only in development) and its "
        "host must not be a private, loopback, link-local or metadata address (422)."
    ),
    status_code=HTTP_201_CREATED,
    response_headers=location("the new webhook", "/webhooks/5"),
    responses={
        **protected_errors(writes=True, body=True),
        409: reply(Detail, "Too many webhooks (at most 20 per user)"),
        422: INVALID,
        429: RATE_LIMITED,
    },
)
async def create_webhook(
    data: Annotated[WebhookCreateIn, contract_body(WebhookCreateIn)],
    webhooks: NamedDependency[WebhookService],
    user: NamedDependency[User],
    limits: NamedDependency[RateLimits],
    request: Request[Any, Any, Any],
) -> Response[WebhookCreatedOut]:
    def respond(webhook: Webhook) -> Response[WebhookCreatedOut]:
        return created(out(webhook, WebhookCreatedOut), f"/webhooks/{webhook.id}")

    await limits.by_user(user, CREATE_LIMIT, "webhook-create")
    call = await idempotent_call(request, respond)
    webhook = await webhooks.create(user, data.url, list(data.events), data.description, call)
    return respond(webhook)


@get(
    "/",
    summary="List your webhooks",
    description="Your webhooks, oldest first, without their secrets.",
    responses=protected_errors(writes=False),
)
async def list_webhooks(
    webhooks: NamedDependency[WebhookService], user: NamedDependency[User]
) -> list[WebhookOut]:
    return out_list(await webhooks.of_user(user), WebhookOut)


@get(
    "/{webhook_id:str}",
    summary="Read a webhook",
    description="One of your webhooks, without its secret; anyone else's answers 404.",
    responses={**protected_errors(writes=False), 422: INVALID, 404: NOT_FOUND},
)
async def get_webhook(
    webhook_id: IntPath, webhooks: NamedDependency[WebhookService], user: NamedDependency[User]
) -> WebhookOut:
    return out(await webhooks.get(user, _webhook_id(webhook_id)), WebhookOut)


@patch(
    "/{webhook_id:str}",
    summary="Change a webhook",
    description=(
        "Changes any of `url`, `events`, `description`, `enabled`. Setting `enabled: true` "
        "re-enables a webhook disabled after failing, and clears its failure count."
    ),
    responses={
        **protected_errors(writes=True, body=True),
        400: reply(Detail, "No fields provided for update"),
        422: INVALID,
        404: NOT_FOUND,
    },
)
async def update_webhook(
    webhook_id: IntPath,
    data: Annotated[WebhookUpdateIn, contract_body(WebhookUpdateIn)],
    webhooks: NamedDependency[WebhookService],
    user: NamedDependency[User],
) -> WebhookOut:
    changes = data.changes()
    if "events" in changes:
        changes["events"] = list(changes["events"])
    updated = await webhooks.update(user, _webhook_id(webhook_id), changes)
    return out(updated, WebhookOut)


@delete(
    "/{webhook_id:str}",
    summary="Delete a webhook",
    description="Deletes the webhook and its delivery history; queued deliveries are dropped.",
    status_code=HTTP_204_NO_CONTENT,
    responses={**protected_errors(writes=True), 422: INVALID, 404: NOT_FOUND},
)
async def delete_webhook(
    webhook_id: IntPath, webhooks: NamedDependency[WebhookService], user: NamedDependency[User]
) -> None:
    await webhooks.delete(user, _webhook_id(webhook_id))


@get(
    "/{webhook_id:str}/deliveries",
    summary="List a webhook's deliveries",
    description=(
        "The last 100 delivery attempts, newest first: event, status, response code, "
        "duration, attempt number and error."
    ),
    responses={**protected_errors(writes=False), 422: INVALID, 404: NOT_FOUND},
)
async def list_deliveries(
    webhook_id: IntPath, webhooks: NamedDependency[WebhookService], user: NamedDependency[User]
) -> list[DeliveryOut]:
    found = await webhooks.deliveries(user, _webhook_id(webhook_id))
    return [_delivery_out(delivery) for delivery in found]


@post(
    "/{webhook_id:str}/deliveries/{delivery_id:str}/redeliver",
    summary="Redeliver an event",
    description=(
        "Queues the delivery's event again, with the same `webhook-id` and body (a receiver "
        "may deduplicate by it), even to a disabled webhook. Answers 202 at once; the attempt "
        "appears in the deliveries."
    ),
    status_code=HTTP_202_ACCEPTED,
    responses={
        **protected_errors(writes=True),
        422: INVALID,
        404: DELIVERY_OR_WEBHOOK_NOT_FOUND,
        429: RATE_LIMITED,
    },
)
async def redeliver(
    webhook_id: IntPath,
    delivery_id: IntPath,
    webhooks: NamedDependency[WebhookService],
    user: NamedDependency[User],
    limits: NamedDependency[RateLimits],
) -> WebhookQueuedOut:
    hook, number = _webhook_id(webhook_id), _delivery_id(delivery_id)
    await limits.by_user(user, SEND_LIMIT, "webhook-send")
    event_id = await webhooks.redeliver(user, hook, number)
    return WebhookQueuedOut(event_id=event_id)


@post(
    "/{webhook_id:str}/ping",
    summary="Ping a webhook",
    description=(
        "Queues a `webhook.ping` event, `data` being `{webhook_id, url}`, even to a disabled "
        "webhook. Answers 202 at once; the attempt appears in the deliveries."
    ),
    status_code=HTTP_202_ACCEPTED,
    responses={**protected_errors(writes=True), 422: INVALID, 404: NOT_FOUND, 429: RATE_LIMITED},
)
async def ping_webhook(
    webhook_id: IntPath,
    webhooks: NamedDependency[WebhookService],
    user: NamedDependency[User],
    limits: NamedDependency[RateLimits],
) -> WebhookQueuedOut:
    number = _webhook_id(webhook_id)
    await limits.by_user(user, SEND_LIMIT, "webhook-send")
    return WebhookQueuedOut(event_id=await webhooks.ping(user, number))


router = Router(
    path="/webhooks",
    route_handlers=[
        create_webhook,
        list_webhooks,
        get_webhook,
        update_webhook,
        delete_webhook,
        list_deliveries,
        redeliver,
        ping_webhook,
    ],
    guards=[authenticated],
    security=PROTECTED,
    tags=["webhooks"],
    # Read by the personal-access-token guard: these routes need a login, not a token.
    opt={"login_only": True},
)

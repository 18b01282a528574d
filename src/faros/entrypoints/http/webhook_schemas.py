"""The wire shapes of `/webhooks` (issue 17)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar

from msgspec import UNSET, Meta, Struct, UnsetType

from faros.domain import webhooks
from faros.domain.text import MULTILINE_PATTERN
from faros.entrypoints.http.validation.plugin import enum_component

WebhookEvent = Annotated[
    webhooks.WebhookEventType,
    enum_component("WebhookEvent", "An event a webhook can subscribe to"),
]
DeliveryStatus = Annotated[
    webhooks.DeliveryStatus,
    enum_component("DeliveryStatus", "`succeeded`: the receiver answered 2xx"),
]
Url = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=webhooks.MAX_URL_LENGTH,
        pattern="^https?://",
        description=(
            "Where events are POSTed: `https` (`http` only in development), to a host that "
            "does not resolve to a private, loopback, link-local or metadata address"
        ),
    ),
]
Events = Annotated[
    list[WebhookEvent],
    Meta(min_length=1, max_length=len(webhooks.EVENT_TYPES), description="Subscribed events"),
]
Description = Annotated[
    str, Meta(max_length=500, pattern=MULTILINE_PATTERN, extra={"text": "multiline"})
]


class WebhookCreateIn(Struct):
    url: Url
    events: Events
    description: Description | None = None


class WebhookUpdateIn(Struct):
    """Absent keys are left alone; `enabled: true` re-enables a disabled webhook."""

    json_schema_extra: ClassVar[dict[str, Any]] = {"minProperties": 1}

    url: Url | UnsetType = UNSET
    events: Events | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    enabled: bool | UnsetType = UNSET

    def changes(self) -> dict[str, Any]:
        return {
            name: value
            for name in self.__struct_fields__
            if (value := getattr(self, name)) is not UNSET
        }


class WebhookOut(Struct):
    id: int
    url: str
    events: list[WebhookEvent]
    description: str | None
    enabled: bool
    created_at: dt.datetime
    updated_at: dt.datetime | None
    consecutive_failures: int
    failing_since: dt.datetime | None
    disabled_reason: str | None


class WebhookCreatedOut(Struct):
    """The new webhook and its signing secret, shown this once."""

    id: int
    url: str
    events: list[WebhookEvent]
    description: str | None
    enabled: bool
    created_at: dt.datetime
    updated_at: dt.datetime | None
    consecutive_failures: int
    failing_since: dt.datetime | None
    disabled_reason: str | None
    secret: Annotated[
        str,
        Meta(description="`whsec_` + base64 of 32 random bytes (Standard Webhooks); shown once"),
    ]


class DeliveryOut(Struct):
    id: int
    event_id: Annotated[str, Meta(description="The `webhook-id` header sent")]
    event: Annotated[str, Meta(description="The event type, or `webhook.ping`")]
    status: DeliveryStatus
    response_code: int | None
    duration_ms: int
    attempt: Annotated[int, Meta(description="1 for the first attempt at this event")]
    error: str | None
    created_at: dt.datetime


class WebhookQueuedOut(Struct):
    event_id: Annotated[str, Meta(description="The `webhook-id` the delivery will carry")]

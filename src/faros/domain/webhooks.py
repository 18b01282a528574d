"""Webhooks: a user's subscriptions to task events, their deliveries, signing and URL policy.

Signatures follow the Standard Webhooks specification (https://www.standardwebhooks.com):
`webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the
base64-decoded bytes of the `whsec_` secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from faros.domain.emails import EmailMessage
from faros.domain.errors import FieldInvalid

WebhookEventType = Literal[
    "task.created",
    "task.updated",
    "task.completed",
    "task.deleted",
    "comment.created",
    "share.created",
    "share.removed",
    "file.uploaded",
]
EVENT_TYPES: Final[tuple[WebhookEventType, ...]] = (
    "task.created",
    "task.updated",
    "task.completed",
    "task.deleted",
    "comment.created",
    "share.created",
    "share.removed",
    "file.uploaded",
)
PING: Final = "webhook.ping"
"""Sent by `POST /webhooks/{id}/ping` only; nobody subscribes to it."""

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a prefix, not a secret
SECRET_BYTES: Final = 32
MAX_URL_LENGTH: Final = 2000
MAX_WEBHOOKS_PER_USER: Final = 20
DELIVERIES_LISTED: Final = 100
# Older attempts are forgotten: only the listed ones can be read or redelivered.
DELIVERIES_KEPT: Final = DELIVERIES_LISTED
# A webhook failing this long, or this many attempts in a row, is switched off.
DISABLE_AFTER_FAILURES: Final = 50
DISABLE_AFTER_FAILING_FOR: Final = timedelta(days=3)

DeliveryStatus = Literal["succeeded", "failed"]


@dataclass(slots=True, frozen=True)
class NewWebhook:
    user_id: int
    url: str
    events: list[str]
    description: str | None
    secret: str
    created_at: datetime


@dataclass(slots=True)
class Webhook:
    id: int
    user_id: int
    url: str
    events: list[str]
    description: str | None
    secret: str
    enabled: bool
    created_at: datetime
    updated_at: datetime | None = None
    consecutive_failures: int = 0
    failing_since: datetime | None = None
    disabled_reason: str | None = None


@dataclass(slots=True, frozen=True)
class NewDelivery:
    """One attempt to deliver one event to one webhook, as it went."""

    webhook_id: int
    event_id: str
    event_type: str
    body: str
    attempt: int
    status: DeliveryStatus
    response_code: int | None
    duration_ms: int
    error: str | None
    created_at: datetime


@dataclass(slots=True)
class Delivery:
    id: int
    webhook_id: int
    event_id: str
    event_type: str
    body: str
    attempt: int
    status: DeliveryStatus
    response_code: int | None
    duration_ms: int
    error: str | None
    created_at: datetime


@dataclass(slots=True, frozen=True)
class AttemptResult:
    """What a receiver answered (`response_code`), or why there was no answer (`error`)."""

    response_code: int | None
    duration_ms: int
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return (
            self.error is None
            and self.response_code is not None
            and (200 <= self.response_code < 300)
        )

    def failure(self) -> str:
        if self.error is not None:
            return self.error
        return f"the receiver answered HTTP {self.response_code}"


@dataclass(slots=True)
class WebhookChanges:
    values: dict[str, Any] = field(default_factory=dict)


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def new_event_id() -> str:
    return "msg_" + secrets.token_hex(16)


def sign(secret: str, event_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header value (Standard Webhooks, version 1)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{event_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(secret: str, event_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, event_id, timestamp, body),
    }


def check_url(url: str, *, allow_http: bool, loc: tuple[str | int, ...]) -> None:
    """Refuse (422) a URL FAROS will not deliver to, whatever its host resolves to.

    `https` only unless `allow_http` (development); a host is required; credentials in the
    URL are refused (they would be sent to whoever the host is and shown in every listing).
    """
    if len(url) > MAX_URL_LENGTH:
        raise FieldInvalid(loc, f"The URL may have at most {MAX_URL_LENGTH} characters", url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise FieldInvalid(loc, "The URL is not valid", url) from None
    allowed = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in allowed:
        raise FieldInvalid(loc, f"The URL's scheme must be {' or '.join(allowed)}", url)
    if not parts.hostname:
        raise FieldInvalid(loc, "The URL must name a host", url)
    if parts.username is not None or parts.password is not None:
        raise FieldInvalid(loc, "The URL may not carry credentials", url)
    if port == 0:
        raise FieldInvalid(loc, "The URL's port is not valid", url)
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise FieldInvalid(loc, "The URL may not contain spaces or control characters", url)


_METADATA: Final = (
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
)
_CGNAT: Final = ipaddress.ip_network("100.64.0.0/10")
_NAT64: Final = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: mapped, compatible, 6to4, NAT64, Teredo."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    packed = address.packed
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(packed[-4:])
    # IPv4-compatible (::a.b.c.d, deprecated): the first 96 bits are zero.
    if packed[:12] == bytes(12) and int(address) > 1:
        return ipaddress.IPv4Address(packed[-4:])
    return None


def refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why FAROS will not connect to `address` (None: a public address, allowed).

    Refused: loopback, private, link-local, multicast, CGNAT, cloud metadata, unspecified,
    reserved and other non-global ranges, in IPv4 and IPv6, and any IPv6 form of an IPv4
    address (mapped, compatible, 6to4, Teredo, NAT64) that is refused itself.
    """
    if address in _METADATA:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = refused_address(embedded)
            return None if inner is None else f"{inner} (in an IPv6 form)"
        if address.scope_id is not None:
            return "a scoped IPv6 address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "a shared (CGNAT) address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "not a public address"
    return None


def should_disable(webhook: Webhook, now: datetime) -> bool:
    """After a failed attempt: has this webhook failed long enough, or often enough, in a row?"""
    if webhook.consecutive_failures >= DISABLE_AFTER_FAILURES:
        return True
    since = webhook.failing_since
    return since is not None and now - since >= DISABLE_AFTER_FAILING_FOR


def disabled_email(to: str, webhook: Webhook, frontend_url: str) -> EmailMessage:
    reason = webhook.disabled_reason or "it kept failing"
    text = (
        f"Your FAROS webhook {webhook.id} ({webhook.url}) was disabled: {reason}.\n\n"
        "Fix the receiver, then enable it again (PATCH /webhooks/"
        f"{webhook.id} with enabled: true).\n\nOpen FAROS: {frontend_url}\n"
    )
    html = (
        f"<p>Your FAROS webhook {webhook.id} (<code>{escape(webhook.url)}</code>) was disabled: "
        f"{escape(reason)}.</p><p>Fix the receiver, then enable it again.</p>"
        f'<p><a href="{escape(frontend_url)}">Open FAROS</a></p>'
    )
    return EmailMessage(to, f"Webhook disabled: {webhook.id}", text, html)


def event_body(event_id: str, event_type: str, created_at: datetime, data: Any) -> str:
    """The JSON text sent for one event: `{id, type, created_at, data}`."""
    stamp = created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    event = {"id": event_id, "type": event_type, "created_at": stamp, "data": data}
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))

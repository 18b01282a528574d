"""Deferred side effects, written in the same transaction as the change that causes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from faros.domain.emails import EmailMessage

OutboxKind = Literal["send_email", "delete_blob", "password_reset", "webhook"]
MAX_ATTEMPTS = 8
# Webhook deliveries are retried with their own, longer backoff for up to a day (issue 17).
WEBHOOK_MAX_ATTEMPTS = 12
WEBHOOK_RETRY_WINDOW = timedelta(hours=24)


@dataclass(slots=True, frozen=True)
class NewOutboxMessage:
    kind: OutboxKind
    payload: dict[str, Any]
    # Makes a message idempotent to enqueue, e.g. one due-soon reminder per task and due date.
    dedupe_key: str | None = None


@dataclass(slots=True)
class OutboxMessage:
    id: int
    kind: OutboxKind
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


def send_email(message: EmailMessage, dedupe_key: str | None = None) -> NewOutboxMessage:
    payload = {
        "to": message.to,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
    }
    return NewOutboxMessage("send_email", payload, dedupe_key)


def email_from_payload(payload: dict[str, Any]) -> EmailMessage:
    return EmailMessage(
        to=str(payload["to"]),
        subject=str(payload["subject"]),
        text=str(payload["text"]),
        html=str(payload["html"]),
    )


def delete_blob(key: str) -> NewOutboxMessage:
    return NewOutboxMessage("delete_blob", {"key": key})


def password_reset(email: str) -> NewOutboxMessage:
    """A reset request for whichever account has `email`, if any (the outbox worker decides)."""
    return NewOutboxMessage("password_reset", {"email": email})


def retry_delay_seconds(attempts: int, kind: OutboxKind | None = None) -> float:
    """Exponential backoff: 2, 4, 8 ... seconds, capped at ten minutes.

    A webhook delivery waits 5 s, 20 s, 80 s ... (times 4), capped at six hours: about ten
    attempts fit in its day (`WEBHOOK_RETRY_WINDOW`).
    """
    if kind == "webhook":
        return float(min(6 * 3600, 5 * 4 ** max(0, attempts - 1)))
    return float(min(600, 2 ** max(1, attempts)))


def max_attempts_of(kind: OutboxKind, default: int) -> int:
    return WEBHOOK_MAX_ATTEMPTS if kind == "webhook" else default


def retry_outlives_window(message: OutboxMessage, retry_at: datetime) -> bool:
    """A webhook delivery is not retried after its day; other kinds only count attempts."""
    return message.kind == "webhook" and retry_at > message.created_at + WEBHOOK_RETRY_WINDOW


def webhook_delivery(
    webhook_id: int, event_id: str, event_type: str, body: str, *, manual: bool = False
) -> NewOutboxMessage:
    """One event for one webhook; `body` is the exact JSON text to sign and send.

    `manual`: a ping or redelivery the owner asked for, sent even to a disabled webhook.
    """
    payload = {
        "webhook_id": webhook_id,
        "event_id": event_id,
        "event_type": event_type,
        "body": body,
        "manual": manual,
    }
    return NewOutboxMessage("webhook", payload)

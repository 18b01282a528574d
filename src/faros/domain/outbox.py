"""Deferred side effects, written in the same transaction as the change that causes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from faros.domain.emails import EmailMessage

OutboxKind = Literal["send_email", "delete_blob", "password_reset"]
MAX_ATTEMPTS = 8


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


def retry_delay_seconds(attempts: int) -> float:
    """Exponential backoff: 2, 4, 8 ... seconds, capped at ten minutes."""
    return float(min(600, 2 ** max(1, attempts)))

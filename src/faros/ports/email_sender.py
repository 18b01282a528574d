from __future__ import annotations

from typing import Protocol

from faros.domain.emails import EmailMessage


class EmailDeliveryError(Exception):
    """The provider did not accept the message; the outbox will retry it."""


class EmailSender(Protocol):
    async def send(self, message: EmailMessage) -> None: ...

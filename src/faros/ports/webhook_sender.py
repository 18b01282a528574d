from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from faros.domain.webhooks import AttemptResult


class WebhookSender(Protocol):
    async def refusal(self, url: str) -> str | None:
        """Why `url`'s host may not be called (its addresses, if it resolves now), or None."""
        ...

    async def send(self, url: str, headers: Mapping[str, str], body: str) -> AttemptResult:
        """POST `body` to `url` once; never raises for what the network or receiver does."""
        ...

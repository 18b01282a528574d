"""Delivery through Resend's HTTP API (``POST /emails``)."""

from __future__ import annotations

import httpx

from faros.domain.emails import EmailMessage
from faros.domain.text import one_line
from faros.ports.email_sender import EmailDeliveryError

_DETAIL_LIMIT = 200


class ResendEmailSender:
    def __init__(
        self,
        api_key: str,
        sender: str,
        base_url: str = "https://api.resend.com",
        client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._api_key = api_key
        self._sender = sender
        self._url = f"{base_url.rstrip('/')}/emails"
        self._timeout = timeout
        # A client handed in belongs to the caller, who closes it; ours we close in aclose().
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient()

    async def send(self, message: EmailMessage) -> None:
        payload = {
            "from": self._sender,
            "to": [message.to],
            "subject": one_line(message.subject),
            "text": message.text,
            "html": message.html,
        }
        try:
            response = await self._client.post(
                self._url,
                json=payload,
                headers={"Authorization": f"Bearer {self._api_key}"},
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise EmailDeliveryError(f"Resend request failed: {type(exc).__name__}") from exc
        if not response.is_success:
            raise EmailDeliveryError(
                f"Resend answered {response.status_code}: {self._detail(response)}"
            )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    def _detail(self, response: httpx.Response) -> str:
        # Resend explains refusals in the body; keep it short and never echo the key back.
        detail = response.text[:_DETAIL_LIMIT].replace(self._api_key, "***")
        return detail or response.reason_phrase

"""Delivery through Amazon SES (or anything speaking its API, such as moto)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError

from faros.adapters.email.mime import build_mime, to_bytes
from faros.domain.emails import EmailMessage
from faros.ports.email_sender import EmailDeliveryError

if TYPE_CHECKING:
    from types_aiobotocore_ses.client import SESClient

# Fail fast and retry once: the outbox worker owns the real retry schedule with backoff.
_CONFIG = AioConfig(
    connect_timeout=3,
    read_timeout=10,
    retries={"max_attempts": 2, "mode": "standard"},
)


class SesEmailSender:
    """Sends the same MIME document as the SMTP and outbox senders via ``SendRawEmail``.

    ``SendEmail`` with Text + Html parts would do for SES itself, but its emulator (moto)
    keeps only one body part, so the contract suite could not prove the other survived.
    """

    def __init__(
        self, sender: str, region: str = "us-east-1", endpoint_url: str | None = None
    ) -> None:
        self._sender = sender
        self._region = region
        self._endpoint_url = endpoint_url
        self._session = aioboto3.Session()
        self._stack = contextlib.AsyncExitStack()
        self._client: SESClient | None = None
        self._lock = asyncio.Lock()

    async def send(self, message: EmailMessage) -> None:
        try:
            data = to_bytes(build_mime(message, self._sender))
            client = await self._get_client()
            await client.send_raw_email(
                Source=self._sender,
                Destinations=[message.to],
                RawMessage={"Data": data},
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "unknown")
            raise EmailDeliveryError(f"SES refused the message: {code}") from exc
        except (BotoCoreError, OSError, ValueError) as exc:
            raise EmailDeliveryError(f"SES delivery failed: {type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        async with self._lock:
            self._client = None
            await self._stack.aclose()

    async def _get_client(self) -> SESClient:
        # One client (and its connection pool) for the sender's lifetime, made on first use
        # so that building the sender at start-up needs neither credentials nor network.
        async with self._lock:
            if self._client is None:
                self._client = await self._stack.enter_async_context(
                    self._session.client(
                        "ses",
                        region_name=self._region,
                        endpoint_url=self._endpoint_url,
                        config=_CONFIG,
                    )
                )
            return self._client

"""Delivery through any SMTP relay with the standard library, off the event loop."""

from __future__ import annotations

import asyncio
import email.message
import functools
import smtplib
import ssl
from typing import Literal

from faros.adapters.email.mime import build_mime
from faros.domain.emails import EmailMessage
from faros.ports.email_sender import EmailDeliveryError

SmtpTls = Literal["none", "starttls", "tls"]


class SmtpEmailSender:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        tls: SmtpTls = "none",
        timeout: float = 10.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._tls = tls
        self._timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        try:
            mime = build_mime(message, self._sender)
            # smtplib blocks; a thread keeps the event loop serving requests meanwhile.
            await asyncio.to_thread(self._deliver, mime)
        # SMTPException, refused connections, timeouts and TLS failures are all OSError;
        # ValueError covers header injection and credentials that do not encode.
        except (OSError, ValueError) as exc:
            raise EmailDeliveryError(
                f"SMTP delivery via {self._host}:{self._port} failed: {type(exc).__name__}: {exc}"
            ) from exc

    @functools.cached_property
    def _tls_context(self) -> ssl.SSLContext:
        # Loading the CA bundle costs tens of milliseconds: once per sender, and only for TLS.
        return ssl.create_default_context()

    def _deliver(self, mime: email.message.EmailMessage) -> None:
        client = (
            smtplib.SMTP_SSL(
                self._host, self._port, timeout=self._timeout, context=self._tls_context
            )
            if self._tls == "tls"
            else smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        )
        with client:
            if self._tls == "starttls":
                client.starttls(context=self._tls_context)
            if self._username is not None:
                client.login(self._username, self._password or "")
            client.send_message(mime)

"""Development sender: every message becomes an ``.eml`` file in a folder instead of mail."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from faros.adapters.email.mime import build_mime, to_bytes
from faros.domain.emails import EmailMessage
from faros.ports.email_sender import EmailDeliveryError

logger = logging.getLogger(__name__)


class OutboxDirEmailSender:
    def __init__(self, directory: Path, sender: str) -> None:
        self._directory = directory
        self._sender = sender

    async def send(self, message: EmailMessage) -> None:
        try:
            data = to_bytes(build_mime(message, self._sender))
        except ValueError as exc:
            raise EmailDeliveryError(f"message cannot be rendered: {exc}") from exc
        try:
            path = await asyncio.to_thread(self._write, data)
        except OSError as exc:
            raise EmailDeliveryError(
                f"cannot write e-mail into {self._directory}: {exc.strerror or exc}"
            ) from exc
        # The path only: bodies hold verification and password-reset tokens.
        logger.info("e-mail written to %s", path)

    def _write(self, data: bytes) -> Path:
        self._directory.mkdir(parents=True, exist_ok=True)
        # Microseconds keep names in sending order; the random part keeps them unique.
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        final = self._directory / f"{stamp}-{secrets.token_hex(4)}.eml"
        # A hidden .tmp name first, so a reader globbing *.eml never sees half a message.
        fd, temp = tempfile.mkstemp(dir=self._directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(temp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        return final

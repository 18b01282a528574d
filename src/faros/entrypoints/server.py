"""How `faros serve` runs uvicorn: connection limits and a request-head guard.

uvicorn's httptools protocol reads a request head of any size for as long as the client takes:
one socket trickling a 32 MiB header grew the process by tens of megabytes, and idle or
half-sent connections stayed open indefinitely. `HeadGuardedHttpToolsProtocol` adds two limits
to it, per connection:

* the head (request line and headers) may be at most `max_bytes` long: beyond that the answer
  is `431 {"detail": "Request Header Fields Too Large"}` and the connection is closed;
* it must arrive within `timeout_seconds` of the connection opening, or of its first byte on a
  kept-alive connection (where uvicorn's keep-alive timeout covers the idle wait before it);
  otherwise the connection is closed without an answer.

h11 (uvicorn's other parser) caps the head too, but answers 400 and serves requests markedly
slower (bench/README.md), and has no deadline either. This subclass costs a clock reading per
request head, a few comparisons per read and one timer per connection.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, cast

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from faros.entrypoints.settings import Settings

__all__ = ["HeadGuardedHttpToolsProtocol", "HeadLimits", "uvicorn_options"]

logger = logging.getLogger("faros.http")

HEAD_TOO_LARGE_STATUS: Final = 431
# After a 431 the rest of the client's head is read and dropped for this long before closing:
# closing with unread input resets the connection, and the client would never see the 431.
REFUSED_LINGER_SECONDS: Final = 1.0
# Timers may fire a little early (the loop's clock has millisecond steps).
_TIMER_SLACK_SECONDS: Final = 0.005
_HEAD_TOO_LARGE_BODY: Final = b'{"detail":"Request Header Fields Too Large"}'
_HEAD_TOO_LARGE: Final = b"".join(
    [
        STATUS_LINE[HEAD_TOO_LARGE_STATUS],
        b"content-type: application/json\r\n",
        b"content-length: %d\r\n" % len(_HEAD_TOO_LARGE_BODY),
        b"connection: close\r\n\r\n",
        _HEAD_TOO_LARGE_BODY,
    ]
)


@dataclass(frozen=True, slots=True)
class HeadLimits:
    max_bytes: int = 64 * 1024
    timeout_seconds: float = 10.0


class _HeadTooLarge(Exception):
    """Raised from the parser's callback to stop parsing a head found too large."""


class HeadGuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: HeadLimits | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        limits = limits or HeadLimits()
        self._max_head_bytes = limits.max_bytes
        self._head_timeout = limits.timeout_seconds
        # Bytes received since the current head began, None while no head is being read. An
        # upper bound: a read that completes a head also carries the start of its body.
        self._head_bytes: int | None = None
        self._head_since = 0.0  # loop time the current head began
        # One timer per connection, re-armed when it fires (not per request): it closes the
        # connection once a head has taken longer than the timeout.
        self._head_watch: asyncio.TimerHandle | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._begin_head()
        self._head_watch = self.loop.call_later(self._head_timeout, self._check_head)

    def connection_lost(self, exc: Exception | None) -> None:
        self._end_head()
        if self._head_watch is not None:
            self._head_watch.cancel()
            self._head_watch = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self.timeout_keep_alive_task is not None:
            # The connection was idle after an answer: these bytes start the next head.
            self._begin_head()
        self._unset_keepalive_if_required()
        if self._head_bytes is not None:
            self._head_bytes += len(data)
        # uvicorn's own data_received, plus the head-too-large outcome of on_headers_complete.
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError as error:
            if isinstance(error.__context__, _HeadTooLarge):
                self._refuse_head()
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        # The parser holds what it has of an unfinished head: bounded by the limit plus one read.
        if self._head_bytes is not None and self._head_bytes > self._max_head_bytes:
            self._refuse_head()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._begin_head()  # a pipelined request; a no-op when its head is already timed

    def on_headers_complete(self) -> None:
        if self._head_bytes is not None and self._head_bytes > self._max_head_bytes:
            # The reads exceeded the limit, but part of them may be body: count exactly (rare).
            size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
            if size > self._max_head_bytes:
                raise _HeadTooLarge
        self._end_head()
        super().on_headers_complete()

    def _begin_head(self) -> None:
        if self._head_bytes is None:
            self._head_bytes = 0
            self._head_since = self.loop.time()

    def _end_head(self) -> None:
        self._head_bytes = None

    def _check_head(self) -> None:
        self._head_watch = None
        if self.transport.is_closing():
            return
        delay = self._head_timeout
        if self._head_bytes is not None:
            delay = self._head_since + self._head_timeout - self.loop.time()
            if delay <= _TIMER_SLACK_SECONDS:
                logger.debug("closed a connection whose request head did not arrive in time")
                self.transport.close()
                return
        self._head_watch = self.loop.call_later(delay, self._check_head)

    def _refuse_head(self) -> None:
        self._end_head()
        if self.transport.is_closing():
            return
        logger.info("431: a request head over %d bytes; connection closed", self._max_head_bytes)
        self._refused = True
        self.transport.write(_HEAD_TOO_LARGE)
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(REFUSED_LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The limits of `settings` as `uvicorn.run` keywords."""
    limits = HeadLimits(
        max_bytes=settings.max_header_bytes, timeout_seconds=settings.header_timeout_seconds
    )
    # A partial, not a class: uvicorn calls it as it would the class, and it pickles by
    # reference for worker processes.
    protocol = cast("type[asyncio.Protocol]", partial(HeadGuardedHttpToolsProtocol, limits=limits))
    return {
        "http": protocol,
        "timeout_keep_alive": settings.keepalive_timeout_seconds,
        "limit_concurrency": settings.max_connections,
    }

"""One structured log line per request, with a request id (ARCHITECTURE.md: logging).

`RequestLogMiddleware` is pure ASGI. Install it outermost so it also sees 404/405s, CORS
preflights and 500s: either `install_request_log(app)` (wraps the Litestar app's ASGI
handler, inside `Litestar.__call__`) or serve `RequestLogMiddleware(app)`.

* The request id is the incoming `X-Request-ID` when it is a short safe token, else a new
  random one; it is echoed as `X-Request-ID` and kept in `scope["state"]["request_id"]`.
* The line carries method, path (never the query string: it can hold reset or verification
  tokens), status (499 when the client disconnected before the answer started: its body was
  cut short, and no answer reached it), duration in ms, request id and the user id when the
  app put one in `scope["state"]["user_id"]` or `scope["user"].id`. Headers, cookies and
  bodies are never logged.

`configure_logging(fmt, level)` sets up the root logger once for the process, as JSON lines
(production) or a console format (development).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import re
import sys
import time
from typing import TYPE_CHECKING, Any, Final, Literal, TextIO

import msgspec
from litestar.enums import ScopeType

from faros.entrypoints.http.log_redaction import format_exception, has_database_error, safe_args

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

__all__ = [
    "REQUEST_ID_HEADER",
    "ConsoleFormatter",
    "JsonFormatter",
    "RequestLogMiddleware",
    "configure_logging",
    "install_request_log",
]

REQUEST_ID_HEADER: Final = "x-request-id"
_HEADER_BYTES: Final = REQUEST_ID_HEADER.encode()
_SAFE_ID: Final = re.compile(rb"[A-Za-z0-9._-]{1,64}")

REQUEST_LOGGER: Final = "faros.request"
# nginx's status for a request whose client went away before the answer: logged, never sent.
CLIENT_CLOSED_REQUEST: Final = 499
# Set in `scope["state"]` when the client disconnects before the answer has started.
CLIENT_GONE: Final = "client_gone"
logger = logging.getLogger(REQUEST_LOGGER)


def _user_id(scope: Scope) -> Any:
    state = scope.get("state")
    if state and (user_id := state.get("user_id")) is not None:
        return user_id
    user = scope.get("user")
    return getattr(user, "id", None) if user is not None else None


def _printable(path: str) -> str:
    # Paths are percent-decoded: a %0A must not start a forged line in console logs.
    return path if path.isprintable() else path.encode("unicode_escape").decode("ascii")


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp, *, log: logging.Logger | None = None) -> None:
        self.app = app
        self.log = log or logger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        request_id: bytes | None = None
        for key, value in scope["headers"]:
            if key == _HEADER_BYTES:
                if _SAFE_ID.fullmatch(value):
                    request_id = value
                break
        if request_id is None:
            request_id = os.urandom(16).hex().encode()  # uuid4().hex's format, a third the cost
        request_id_text = request_id.decode("ascii")
        state = scope.setdefault("state", {})
        state["request_id"] = request_id_text
        status = 500
        answering = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, answering
            if message["type"] == "http.response.start":
                answering = True
                status = message["status"]
                headers = list(message.get("headers") or ())
                headers.append((_HEADER_BYTES, request_id))
                message["headers"] = headers
            await send(message)

        async def receive_watching() -> ReceiveMessage:
            message = await receive()
            # After the answer has started, a disconnect is how a finished exchange ends.
            if message["type"] == "http.disconnect" and not answering:
                state[CLIENT_GONE] = True
            return message

        try:
            await self.app(scope, receive_watching, send_with_id)
        finally:
            if state.get(CLIENT_GONE):
                status = CLIENT_CLOSED_REQUEST
            if self.log.isEnabledFor(logging.INFO):
                duration = round((time.perf_counter() - began) * 1000, 2)
                method = scope["method"]
                path = _printable(scope["path"])
                user_id = _user_id(scope)
                self.log.info(
                    "%s %s %s %.2fms",
                    method,
                    path,
                    status,
                    duration,
                    extra={
                        "method": method,
                        "path": path,
                        "status": status,
                        "duration_ms": duration,
                        "request_id": request_id_text,
                        "user_id": user_id,
                    },
                )


def install_request_log(app: Litestar, *, log: logging.Logger | None = None) -> None:
    """Wrap the app's ASGI handler, outside CORS and the exception middleware."""
    app.asgi_handler = RequestLogMiddleware(app.asgi_handler, log=log)


# --- Formatting -------------------------------------------------------------------------------

_RECORD_FIELDS: Final = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)
_CONTEXT_KEYS: Final = ("request_id", "user_id")


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    fields = vars(record)
    extra = fields.keys() - _RECORD_FIELDS  # a set difference in C: most records have none
    return {key: fields[key] for key in fields if key in extra} if extra else {}


_second_text: tuple[int, str] = (-1, "")


def _timestamp(record: logging.LogRecord) -> str:
    """`2026-11-25T21:24:41.123Z`; the part up to the second is formatted once a second."""
    global _second_text
    created = record.created
    second = int(created)
    if _second_text[0] != second:
        moment = dt.datetime.fromtimestamp(second, dt.UTC)
        _second_text = (second, moment.strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{_second_text[1]}.{int((created - second) * 1000):03d}Z"


def _loggable(record: logging.LogRecord) -> logging.LogRecord:
    """The record, or a copy whose database errors are written without user content
    (log_redaction.py); a copy, as other handlers may see the record as it is."""
    if record.name == REQUEST_LOGGER:
        return record  # request lines never carry errors
    args = safe_args(record.args) if isinstance(record.args, tuple) and record.args else None
    error = record.exc_info[1] if record.exc_info else None
    if args is None and (error is None or not has_database_error(error)):
        return record
    copy = logging.makeLogRecord(vars(record))
    if args is not None:
        copy.args = args
    copy.exc_text = None  # not a traceback another formatter cached with the full texts
    return copy


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the record's extras, exc."""

    _encoder = msgspec.json.Encoder(enc_hook=str)

    def formatException(self, ei: Any) -> str:
        return format_exception(ei)

    def format(self, record: logging.LogRecord) -> str:
        record = _loggable(record)
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return self._encoder.encode(entry).decode("utf-8")


class ConsoleFormatter(logging.Formatter):
    """`time LEVEL logger message rid=… uid=…` plus the traceback, for humans."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-5s %(name)s %(message)s")

    def formatException(self, ei: Any) -> str:
        return format_exception(ei)

    def format(self, record: logging.LogRecord) -> str:
        record = _loggable(record)
        text = super().format(record)
        context = " ".join(
            f"{short}={value}"
            for key, short in zip(_CONTEXT_KEYS, ("rid", "uid"), strict=True)
            if (value := getattr(record, key, None)) is not None
        )
        if not context:
            return text
        head, newline, tail = text.partition("\n")
        return f"{head} {context}{newline}{tail}"


# How long a line logged on the event loop may wait to be written with the lines after it.
LOG_WRITE_DELAY_SECONDS: Final = 0.05
_LOG_BUFFER_LINES: Final = 512


class _FarosHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """stderr, one line per record; the request log's lines written in batches.

    Writing and flushing each request's line was a system call per request, a visible share of
    its CPU (measured by turning the request log off, bench/README.md). Request lines logged on
    the event loop are gathered and written together at most `LOG_WRITE_DELAY_SECONDS` later
    (or once `_LOG_BUFFER_LINES` are waiting). Every other line (warnings, start-up and
    shutdown messages, anything from a thread) is written at once, after the gathered ones, so
    the order holds and nothing is waiting when uvicorn ends the process. A process killed
    outright loses at most the last `LOG_WRITE_DELAY_SECONDS` of request lines.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._waiting: list[str] = []
        self._write_scheduled = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:  # noqa: BLE001 - as logging.StreamHandler.emit: report, go on
            self.handleError(record)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or record.name != REQUEST_LOGGER or len(self._waiting) >= _LOG_BUFFER_LINES:
            self._waiting.append(line)
            self._write_waiting()
            return
        self._waiting.append(line)
        if not self._write_scheduled:
            self._write_scheduled = True
            loop.call_later(LOG_WRITE_DELAY_SECONDS, self._write_later)

    def _write_later(self) -> None:
        self.acquire()
        try:
            self._write_scheduled = False
            self._write_waiting()
        finally:
            self.release()

    def _write_waiting(self) -> None:
        if not self._waiting:
            return
        text, self._waiting = "".join(self._waiting), []
        # A closed or broken stderr (ValueError: closed file) must not fail requests.
        with contextlib.suppress(OSError, ValueError):
            self.stream.write(text)
            self.stream.flush()

    def flush(self) -> None:
        self.acquire()
        try:
            self._write_waiting()
        finally:
            self.release()


def configure_logging(fmt: Literal["json", "console"], level: int | str = logging.INFO) -> None:
    """Route every logger (ours, Litestar's, uvicorn's errors) to one stderr handler.

    uvicorn's access log is silenced: the request log replaces it (start uvicorn with
    `log_config=None` so it does not install its own handlers over these).
    """
    handler = _FarosHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    root = logging.getLogger()
    for existing in [h for h in root.handlers if isinstance(h, _FarosHandler)]:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "litestar"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
    logging.getLogger("uvicorn.access").disabled = True

"""Request id + one structured line per request; formatters; nothing secret in the line."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar import Litestar, Request, get, post
from litestar.testing import TestClient

from faros.entrypoints.http import request_log
from faros.entrypoints.http.errors import exception_handlers
from faros.entrypoints.http.request_log import (
    ConsoleFormatter,
    JsonFormatter,
    configure_logging,
    install_request_log,
)
from faros.entrypoints.http.security import cors_config

ORIGIN = "http://localhost:5173"


class Caller:
    id = 42


@get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


@get("/mine")
async def mine(request: Request[Any, Any, Any]) -> dict[str, str]:
    request.state.user_id = 7
    return {"request_id": request.state.request_id}


@get("/scoped-user")
async def scoped_user(request: Request[Any, Any, Any]) -> None:
    request.scope["user"] = Caller()


@post("/login")
async def login() -> None:
    return None


@get("/fail")
async def fail() -> None:
    raise RuntimeError("boom")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    app = Litestar(
        route_handlers=[hello, mine, scoped_user, login, fail],
        exception_handlers=exception_handlers(),
        cors_config=cors_config([ORIGIN]),
        logging_config=None,
    )
    install_request_log(app)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def request_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "faros.request"]


def test_one_line_per_request_with_its_fields(
    client: TestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="faros.request"):
        before = time.perf_counter()
        response = client.get("/hello?token=secret-reset-token")
        elapsed_ms = (time.perf_counter() - before) * 1000
    assert response.status_code == 200
    (record,) = request_lines(caplog)
    fields: dict[str, Any] = vars(record)
    assert fields["method"] == "GET"
    assert fields["path"] == "/hello"
    assert fields["status"] == 200
    assert isinstance(fields["duration_ms"], float)
    # The request's own duration, within the time the client waited for it.
    assert 0 <= fields["duration_ms"] <= elapsed_ms
    assert fields["request_id"] == response.headers["x-request-id"]
    assert fields["user_id"] is None
    assert "secret-reset-token" not in record.getMessage()
    assert record.getMessage().startswith("GET /hello 200 ")


def test_generated_request_ids_are_unique(client: TestClient[Litestar]) -> None:
    first = client.get("/hello").headers["x-request-id"]
    second = client.get("/hello").headers["x-request-id"]
    assert first != second
    assert len(first) == 32


def test_a_safe_incoming_request_id_is_honoured(client: TestClient[Litestar]) -> None:
    response = client.get("/mine", headers={"X-Request-ID": "abc-123.def_4"})
    assert response.headers["x-request-id"] == "abc-123.def_4"
    assert response.json() == {"request_id": "abc-123.def_4"}


@pytest.mark.parametrize("incoming", ["has space", "x" * 65, "semi;colon", "ünï"])
def test_an_unsafe_incoming_request_id_is_replaced(
    client: TestClient[Litestar], incoming: str
) -> None:
    response = client.get("/hello", headers={b"X-Request-ID": incoming.encode()})
    assert response.headers["x-request-id"] != incoming
    assert len(response.headers["x-request-id"]) == 32


def test_user_id_from_scope_state_or_scope_user(
    client: TestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="faros.request"):
        client.get("/mine")
        client.get("/scoped-user")
    assert [vars(r)["user_id"] for r in request_lines(caplog)] == [7, 42]


def test_framework_errors_and_preflights_are_logged_too(
    client: TestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="faros.request"):
        assert client.get("/missing").status_code == 404
        assert client.put("/hello").status_code == 405
        assert client.get("/fail").status_code == 500
        client.options("/hello", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
    assert [(vars(r)["path"], vars(r)["status"]) for r in request_lines(caplog)] == [
        ("/missing", 404),
        ("/hello", 405),
        ("/fail", 500),
        ("/hello", 204),
    ]


def test_no_cookies_tokens_or_passwords_reach_the_log(
    client: TestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        client.post(
            "/login?password=pw-in-query",
            json={"username": "u", "password": "pw-in-body"},
            headers={"Authorization": "Bearer tok-123", "Cookie": "access_token=cookie-456"},
        )
    formatter = JsonFormatter()
    server_side = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert server_side
    text = "\n".join(formatter.format(r) for r in server_side)
    for secret in ("pw-in-query", "pw-in-body", "tok-123", "cookie-456"):
        assert secret not in text


def test_control_characters_in_the_path_are_escaped(
    client: TestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="faros.request"):
        client.get("/hello%0AFAKE%20LINE")
    (record,) = request_lines(caplog)
    assert "\n" not in record.getMessage()
    assert vars(record)["path"] == "/hello\\nFAKE LINE"


# --- formatters ---------------------------------------------------------------------------


def make_record(**extra: Any) -> logging.LogRecord:
    record = logging.LogRecord("faros.request", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_formatter() -> None:
    line = JsonFormatter().format(make_record(request_id="r1", user_id=3, status=200))
    entry = json.loads(line)
    assert entry["level"] == "info"
    assert entry["logger"] == "faros.request"
    assert entry["msg"] == "GET /x"
    assert (entry["request_id"], entry["user_id"], entry["status"]) == ("r1", 3, 200)
    assert entry["ts"].endswith("Z")


def test_json_formatter_includes_the_traceback() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.LogRecord(
            "faros.http", logging.ERROR, __file__, 1, "unhandled", (), __import__("sys").exc_info()
        )
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: bad" in entry["exc"]


def test_console_formatter() -> None:
    line = ConsoleFormatter().format(make_record(request_id="r1", user_id=3))
    assert line.endswith("INFO  faros.request GET /x rid=r1 uid=3")


def test_configure_logging_installs_one_handler(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    try:
        configure_logging("json", "INFO")
        configure_logging("json", logging.INFO)
        added = [h for h in root.handlers if h not in before]
        assert len(added) == 1
        assert isinstance(added[0].formatter, JsonFormatter)
        logging.getLogger("faros.test").info("hello %s", "there", extra={"request_id": "q"})
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert json.loads(line)["msg"] == "hello there"
        assert json.loads(line)["request_id"] == "q"
        configure_logging("console", "WARNING")
        added = [h for h in root.handlers if h not in before]
        assert len(added) == 1
        assert isinstance(added[0].formatter, ConsoleFormatter)
        assert root.level == logging.WARNING
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)
        logging.getLogger("uvicorn.access").disabled = False


class _CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _handler_on(stream: _CountingStream) -> logging.Handler:
    handler = request_log._FarosHandler(stream)
    handler.setFormatter(JsonFormatter())
    return handler


def _record(name: str, message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, None, None)


async def test_request_lines_on_the_loop_are_written_together_and_in_order() -> None:
    stream = _CountingStream()
    handler = _handler_on(stream)
    for n in range(5):
        handler.handle(_record("faros.request", f"GET /{n} 200"))
    assert stream.writes == 0  # gathered
    # Any other line is written at once, after the gathered ones.
    handler.handle(_record("faros.app", "something to see", logging.WARNING))
    lines = [json.loads(line)["msg"] for line in stream.getvalue().splitlines()]
    assert lines == [*(f"GET /{n} 200" for n in range(5)), "something to see"]
    assert stream.writes == 1


async def test_gathered_lines_are_written_within_the_delay() -> None:
    stream = _CountingStream()
    handler = _handler_on(stream)
    handler.handle(_record("faros.request", "GET /a 200"))
    handler.handle(_record("faros.request", "GET /b 200"))
    written = asyncio.Event()
    asyncio.get_running_loop().call_later(request_log.LOG_WRITE_DELAY_SECONDS * 2, written.set)
    await written.wait()
    assert [json.loads(line)["msg"] for line in stream.getvalue().splitlines()] == [
        "GET /a 200",
        "GET /b 200",
    ]
    assert stream.writes == 1


async def test_flush_writes_what_is_waiting() -> None:
    stream = _CountingStream()
    handler = _handler_on(stream)
    handler.handle(_record("faros.request", "GET /a 200"))
    handler.flush()
    assert json.loads(stream.getvalue())["msg"] == "GET /a 200"


def test_without_a_running_loop_every_line_is_written_at_once() -> None:
    stream = _CountingStream()
    handler = _handler_on(stream)
    handler.handle(_record("faros.request", "GET /a 200"))
    handler.handle(_record("faros.request", "GET /b 200"))
    assert stream.writes == 2


@pytest.mark.parametrize(
    "created", [0.0, 1764106481.0, 1764106481.0009, 1764106481.999999, 1764106482.5, 2.0e9 + 0.25]
)
def test_timestamps_are_iso_utc_to_the_millisecond(created: float) -> None:
    record = _record("faros.request", "GET / 200")
    record.created = created
    expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    assert request_log._timestamp(record) == expected.replace("+00:00", "Z")

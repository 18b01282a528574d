"""A client that disconnects in the middle of its request body (issue #14, informational).

It is no fault of the server: one INFO request line with status 499, no ERROR and no traceback.
The app is driven through ASGI as uvicorn drives it: part of the body, then `http.disconnect`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from litestar import Litestar

SLOW_CLIENTS = 5


def _scope(path: str, length: int) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(length).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }


async def _leave_mid_body(app: Litestar, path: str) -> list[dict[str, Any]]:
    """POST `path` announcing 1,000 bytes, send 12, then disconnect; what the app sent."""
    events = iter(
        [
            {"type": "http.request", "body": b'{"username":', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(events, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(_scope(path, 1000), receive, send)  # type: ignore[arg-type]
    return sent


async def test_a_client_leaving_mid_body_is_one_info_line_with_499(
    app: Litestar, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await asyncio.gather(*(_leave_mid_body(app, "/auth/register") for _ in range(SLOW_CLIENTS)))
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert problems == [], [f"{r.name}: {r.getMessage()}" for r in problems]
    assert not [r for r in caplog.records if r.exc_info]
    lines = [r for r in caplog.records if r.name == "faros.request"]
    assert len(lines) == SLOW_CLIENTS
    for line in lines:
        assert line.levelno == logging.INFO
        assert vars(line)["status"] == 499
        assert vars(line)["path"] == "/auth/register"


async def test_a_disconnect_after_the_answer_keeps_the_answer_status(
    app: Litestar, caplog: pytest.LogCaptureFixture
) -> None:
    """Only a disconnect before the answer is a 499: uvicorn also reports one after it."""
    with caplog.at_level(logging.INFO, logger="faros.request"):
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = _scope("/health", 0) | {"method": "GET"}
        await app(scope, receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 200
    (line,) = [r for r in caplog.records if r.name == "faros.request"]
    assert vars(line)["status"] == 200

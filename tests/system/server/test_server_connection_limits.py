"""What one connection may cost `faros serve` before it is a request (issue #14, item 2).

Raw sockets against a real `faros serve`: a request head over `FAROS_MAX_HEADER_BYTES` is
refused (431, or the connection closed: never served), a connection that sends nothing or only
part of a head is closed after `FAROS_HEADER_TIMEOUT_SECONDS`, other clients are served all the
while, and `FAROS_MAX_CONNECTIONS` reaches uvicorn. Every wait is a socket read with a timeout.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time

import httpx
import pytest

from serve_process import FarosServer, StartServer

pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.slow]

MAX_HEADER_BYTES = 8 * 1024
HEADER_TIMEOUT = 2  # seconds
# How long a test waits for the server to close a connection before calling it left open:
# far beyond the timeout, for a loaded machine.
CLOSE_BOUND = HEADER_TIMEOUT + 25.0
REPLY_BOUND = 30.0


@pytest.fixture(scope="module")
def server(start_server: StartServer) -> FarosServer:
    return start_server(
        FAROS_MAX_HEADER_BYTES=str(MAX_HEADER_BYTES),
        FAROS_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
    )


def head(path: str = "/health", *extra: bytes) -> bytes:
    lines = [f"GET {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", *extra]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def read_reply(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or resets it)."""
    received = b""
    with contextlib.suppress(ConnectionResetError, BrokenPipeError):
        while chunk := sock.recv(65536):
            received += chunk
    return received


def read_one_response(sock: socket.socket) -> tuple[int, bytes]:
    """One `Content-Length` response from a kept-alive connection: status and body."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed mid-response: {received!r}"
        received += chunk
    header, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in header.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-body"
        body += chunk
    return int(header.split(b" ", 2)[1]), body


def closed_by_server(sock: socket.socket) -> bool:
    """Wait (up to the socket's timeout) for the server to close; True if it did."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def still_open(sock: socket.socket) -> bool:
    """Without waiting: the server has not closed this connection (nor sent anything)."""
    sock.setblocking(False)
    try:
        sock.recv(1)
    except BlockingIOError:
        return True
    except ConnectionResetError:
        return False
    finally:
        sock.settimeout(CLOSE_BOUND)
    return False


def test_an_oversized_head_is_refused_and_never_served(server: FarosServer) -> None:
    oversized = head("/health", b"X-Padding: " + b"a" * (1024 * 1024))
    with server.connect(REPLY_BOUND) as sock:
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            sock.sendall(oversized)
        reply = read_reply(sock)
    # Either the 431 arrived, or the connection went down before it could: never a 200.
    assert reply == b"" or reply.startswith(b"HTTP/1.1 431 "), reply[:200]
    if reply:
        assert json.loads(reply.partition(b"\r\n\r\n")[2]) == {
            "detail": "Request Header Fields Too Large"
        }
    assert httpx.get(f"{server.url}/health", timeout=REPLY_BOUND).status_code == 200


def test_a_head_over_the_cap_in_one_write_gets_a_431(server: FarosServer) -> None:
    with server.connect(REPLY_BOUND) as sock:
        sock.sendall(head("/health", b"X-Padding: " + b"a" * (MAX_HEADER_BYTES + 100)))
        reply = read_reply(sock)
    assert reply.startswith(b"HTTP/1.1 431 "), reply[:200]


def test_heads_under_the_cap_and_large_bodies_are_served(server: FarosServer) -> None:
    with server.connect(REPLY_BOUND) as sock:
        sock.sendall(head("/health", b"X-Padding: " + b"a" * (MAX_HEADER_BYTES - 500)))
        status, _ = read_one_response(sock)
        assert status == 200
        # A small head whose body arrives in the same reads: the body does not count.
        body = json.dumps({"username": "x" * (64 * 1024), "password": "p"}).encode()
        sock.sendall(
            b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        status, _ = read_one_response(sock)
        assert status not in (200, 431, 500)


def test_a_connection_that_sends_nothing_is_closed_after_the_timeout(
    server: FarosServer,
) -> None:
    with server.connect(CLOSE_BOUND) as sock:
        opened = time.monotonic()
        assert closed_by_server(sock), "an idle connection was left open"
        # Timers do not fire early: a close well before the timeout would be another cause.
        assert time.monotonic() - opened >= HEADER_TIMEOUT * 0.9


def test_a_half_sent_head_is_closed_after_the_timeout(server: FarosServer) -> None:
    with server.connect(CLOSE_BOUND) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert read_reply(sock) == b""  # closed, and nothing was served


def test_a_half_sent_second_request_is_closed_after_the_timeout(server: FarosServer) -> None:
    with server.connect(CLOSE_BOUND) as sock:
        sock.sendall(head())
        status, _ = read_one_response(sock)
        assert status == 200
        # Keep-alive's idle timer stops at the first byte of the next request: the head's
        # deadline takes over.
        sock.sendall(b"GET /hea")
        assert read_reply(sock) == b""


def test_others_are_served_while_slow_connections_wait_to_be_closed(
    server: FarosServer,
) -> None:
    idle = [server.connect(CLOSE_BOUND) for _ in range(40)]
    partial = [server.connect(CLOSE_BOUND) for _ in range(40)]
    try:
        for sock in partial:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        with httpx.Client(base_url=server.url, timeout=REPLY_BOUND) as client:
            for _ in range(10):
                assert client.get("/health").status_code == 200
        # The answers above did not wait for the slow ones to be dropped.
        assert any(still_open(sock) for sock in idle + partial)
        for sock in idle + partial:
            assert closed_by_server(sock), "a slow connection was left open"
    finally:
        for sock in idle + partial:
            sock.close()


def test_connections_beyond_the_maximum_are_answered_503(start_server: StartServer) -> None:
    limited = start_server(FAROS_MAX_CONNECTIONS="4", FAROS_HEADER_TIMEOUT_SECONDS="60")
    held = [limited.connect(REPLY_BOUND) for _ in range(4)]
    try:
        with limited.connect(REPLY_BOUND) as sock:
            sock.sendall(head())
            status, _ = read_one_response(sock)
        assert status == 503
    finally:
        for sock in held:
            sock.close()

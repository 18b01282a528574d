"""Uploads and downloads are streamed (D19): proof by counting and by measuring.

Request bodies here are produced lazily by `CountingBody`; httpx's ASGI transport hands them to
the app one chunk per `receive()`, so `pulled` is exactly how much of the body the server asked
for. Raw ASGI calls drive what httpx cannot: a client that disconnects half-way.
"""

from __future__ import annotations

import asyncio
import gc
import os
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

CHUNK = 64 * 1024
Message = dict[str, Any]


def open_files_under(root: Path) -> list[str]:
    """Paths below `root` this process holds open right now."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(f"{root}/"):
            held.append(target)
    return held


@pytest.fixture
def no_gc() -> Iterator[None]:
    """Keep the cycle collector from closing what the code under test should have closed."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def http_scope(method: str, path: str, headers: dict[str, str]) -> Message:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }


async def call(
    app: Litestar,
    scope: Message,
    receive: Callable[[], Awaitable[Message]],
) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(app(scope, receive, send), timeout=30)  # type: ignore[arg-type]
    return sent


# --------------------------------------------------------------------------- uploads


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "chunked"])
async def test_oversized_upload_is_refused_before_the_body_is_read(
    api: Any, files: Any, upload_root: Path, announced: bool
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    body = files.CountingBody("b-oversized", "huge.txt", 50 * files.MIB, chunk=CHUNK)
    headers = body.headers
    if not announced:
        del headers["Content-Length"]  # httpx then sends it chunked
    response = await api.client.post(
        f"/tasks/{task['id']}/files", content=body, headers={**headers, **owner.auth}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "File too large. Max size: 10.0 MB"}
    if announced:
        # 50 MiB announced: refused on the header, before a single byte was asked for.
        assert body.pulled == 0
    else:
        # Unannounced: refused at the first chunk past 10 MiB, 40 MiB never asked for.
        assert files.LIMIT < body.pulled <= files.LIMIT + len(body.head) + CHUNK
    assert files.task_objects(upload_root, task["id"]) == []
    assert files.leftovers(upload_root) == []
    assert (await api.get(owner, f"/tasks/{task['id']}/files")).json() == []


async def test_eleven_mib_announced_is_refused_unread(api: Any, files: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    body = files.CountingBody("b-eleven", "eleven.txt", 11 * files.MIB)
    response = await api.client.post(
        f"/tasks/{task['id']}/files", content=body, headers={**body.headers, **owner.auth}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "File too large. Max size: 10.0 MB"}
    assert body.pulled == 0


@pytest.mark.slow
async def test_ten_mib_upload_holds_a_small_fraction_in_memory(
    api: Any, files: Any, upload_root: Path
) -> None:
    """Python allocations while a 10 MiB file streams to disk stay far below its size."""
    owner = await api.user()
    task = await api.task(owner)
    warm = files.CountingBody("b-warm", "warm.txt", CHUNK)
    response = await api.client.post(
        f"/tasks/{task['id']}/files", content=warm, headers={**warm.headers, **owner.auth}
    )
    assert response.status_code == 201, response.text

    body = files.CountingBody("b-memory", "ten.txt", files.LIMIT, chunk=CHUNK)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        response = await api.client.post(
            f"/tasks/{task['id']}/files", content=body, headers={**body.headers, **owner.auth}
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 201, response.text
    assert response.json()["file_size"] == files.LIMIT
    growth = peak - before
    print(f"\npeak Python allocation during a 10 MiB upload: {growth / files.MIB:.2f} MiB")
    # The local adapter gathers writes in 1 MiB; a buffered body would be 10 MiB or more.
    assert growth < 4 * files.MIB


async def test_task_deleted_while_uploading_leaves_nothing(
    api: Any, files: Any, upload_root: Path, kit: Any
) -> None:
    """The row is written after the bytes; if the task went meanwhile, the object goes too."""
    owner = await api.user()
    task = await api.task(owner)
    deleted = asyncio.Event()

    async def delete_task_half_way(sent: int) -> None:
        if sent >= files.MIB and not deleted.is_set():
            deleted.set()
            gone = await api.client.delete(f"/tasks/{task['id']}", headers=owner.auth)
            assert gone.status_code == 204

    body = files.CountingBody(
        "b-race", "race.txt", 3 * files.MIB, chunk=CHUNK, between=delete_task_half_way
    )
    response = await api.client.post(
        f"/tasks/{task['id']}/files", content=body, headers={**body.headers, **owner.auth}
    )
    assert deleted.is_set()
    assert response.status_code == 404
    assert response.json() == kit.not_found(task["id"])
    assert files.task_objects(upload_root, task["id"]) == []
    assert files.leftovers(upload_root) == []


async def test_client_disconnecting_mid_upload_leaves_nothing(
    app: Litestar, api: Any, files: Any, upload_root: Path
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    body = files.CountingBody("b-abort", "abort.txt", 4 * files.MIB, chunk=CHUNK)
    chunks = body.__aiter__()
    pulled = 0

    async def receive() -> Message:
        nonlocal pulled
        if pulled >= 2 * files.MIB:
            return {"type": "http.disconnect"}
        chunk = await anext(chunks)
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    scope = http_scope("POST", f"/tasks/{task['id']}/files", {**body.headers, **owner.auth})
    await call(app, scope, receive)
    assert pulled >= 2 * files.MIB
    assert files.task_objects(upload_root, task["id"]) == []
    assert files.leftovers(upload_root) == []
    assert (await api.get(owner, f"/tasks/{task['id']}/files")).json() == []


# --------------------------------------------------------------------------- downloads


async def test_download_is_streamed_in_chunks(app: Litestar, api: Any, files: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    data = b"%PDF-" + files.binary(3 * files.MIB)
    uploaded = await api.client.post(
        f"/tasks/{task['id']}/files",
        files={"file": ("big.pdf", data, "application/pdf")},
        headers=owner.auth,
    )
    complete = asyncio.Event()
    sent: list[Message] = []

    async def receive() -> Message:
        # As servers do, the client "leaves" once the whole response has been sent.
        await complete.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            complete.set()

    scope = http_scope("GET", f"/files/{uploaded.json()['id']}", owner.auth)
    await asyncio.wait_for(app(scope, receive, send), timeout=30)  # type: ignore[arg-type]
    bodies = [m["body"] for m in sent if m["type"] == "http.response.body"]
    assert b"".join(bodies) == data
    # Many bounded pieces, not one 3 MiB buffer.
    assert len(bodies) > 10
    assert max(len(b) for b in bodies) <= 1024 * 1024


@pytest.mark.usefixtures("no_gc")
@pytest.mark.parametrize("leaves", ["after the first chunk", "at once"])
async def test_disconnect_during_download_releases_the_stored_object(
    app: Litestar, api: Any, files: Any, upload_root: Path, leaves: str
) -> None:
    """Litestar drops the body iterator unclosed on disconnect; the open file (or the S3
    connection) must still be released at once, not whenever the garbage collector runs."""
    owner = await api.user()
    task = await api.task(owner)
    data = b"%PDF-" + files.binary(3 * files.MIB)
    uploaded = await api.client.post(
        f"/tasks/{task['id']}/files",
        files={"file": ("big.pdf", data, "application/pdf")},
        headers=owner.auth,
    )
    first_chunk = asyncio.Event()
    sent: list[Message] = []

    async def receive() -> Message:
        if leaves != "at once":
            await first_chunk.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.start":
            assert open_files_under(upload_root), "the object is open once the answer starts"
        if message["type"] == "http.response.body":
            first_chunk.set()

    scope = http_scope("GET", f"/files/{uploaded.json()['id']}", owner.auth)
    await asyncio.wait_for(app(scope, receive, send), timeout=30)  # type: ignore[arg-type]
    assert sent[0]["status"] == 200
    streamed = sum(len(m["body"]) for m in sent if m["type"] == "http.response.body")
    assert streamed < len(data)
    if leaves != "at once":
        assert streamed > 0
    assert open_files_under(upload_root) == []


@pytest.mark.usefixtures("no_gc")
async def test_disconnect_during_avatar_download_releases_it(
    app: Litestar, api: Any, files: Any, upload_root: Path
) -> None:
    owner = await api.user()
    image = files.png_of_size(2 * files.MIB)
    response = await api.client.post(
        "/users/me/avatar", files={"file": ("me.png", image, "image/png")}, headers=owner.auth
    )
    assert response.status_code == 200, response.text
    first_chunk = asyncio.Event()

    async def receive() -> Message:
        await first_chunk.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            first_chunk.set()

    scope = http_scope("GET", f"/users/{owner.id}/avatar.png", {})
    await asyncio.wait_for(app(scope, receive, send), timeout=30)  # type: ignore[arg-type]
    assert open_files_under(upload_root) == []

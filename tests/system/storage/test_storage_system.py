"""`faros serve` with local and S3 storage: one curl session, and the server's peak memory.

Peak memory is the kernel's own figure for the server process: its peak RSS is reset through
`/proc/<pid>/clear_refs` right before the upload and read back as `VmHWM` right after.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.s3, pytest.mark.slow]

MIB = 1024 * 1024
LIMIT = 10 * MIB
SCRIPT = Path(__file__).with_name("curl_session.sh")


def status_kib(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    raise AssertionError(f"{name} not in /proc/{pid}/status")


def reset_peak(pid: int) -> None:
    # "5" resets VmHWM to the current RSS (Linux 4.0+, proc(5)); we own the process.
    Path(f"/proc/{pid}/clear_refs").write_text("5")


async def stored_objects(server: Any, peek_bucket: Any, prefix: str) -> list[str]:
    if server.kind == "s3":
        keys: list[str] = await peek_bucket(server.bucket, prefix)
        return keys
    root: Path = server.upload_dir

    def listing() -> list[str]:
        return sorted(str(p.relative_to(root)) for p in root.glob(f"{prefix}*") if p.is_file())

    return await asyncio.to_thread(listing)


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)  # poll interval


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
async def test_the_curl_session_works_with_either_storage(
    storage_server: Any, peek_bucket: Any
) -> None:
    server = storage_server
    done = await asyncio.to_thread(
        subprocess.run,
        ["bash", str(SCRIPT), server.url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{server.output()}"
    assert done.stdout.rstrip().endswith("curl session passed")
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    task, user = values["TASK_ID"], values["USER_ID"]

    # The in-server outbox worker removes the deleted file's object; the 10 MiB one stays.
    async def one_left() -> bool:
        return len(await stored_objects(server, peek_bucket, f"task_{task}_")) == 1

    await eventually(one_left)
    assert (await stored_objects(server, peek_bucket, f"task_{task}_"))[0].endswith(".txt")
    (avatar,) = await stored_objects(server, peek_bucket, f"avatars/user_{user}_")
    # A key of its own per upload (#14 item 8); the public URL stays `/users/<id>/avatar.png`.
    assert re.fullmatch(rf"avatars/user_{user}_avatar_[0-9a-f]{{32}}\.png", avatar), avatar


class Counted:
    """A 10 MiB (+ extra) file part sent in 64 KiB chunks, never held whole by the client."""

    def __init__(self, size: int) -> None:
        self.boundary = "system-memory-boundary"
        self.head = (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="ten.txt"\r\nContent-Type: text/plain\r\n\r\n'
        ).encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.size = size

    @property
    def headers(self) -> dict[str, str]:
        length = len(self.head) + self.size + len(self.tail)
        return {
            "Content-Type": f"multipart/form-data; boundary={self.boundary}",
            "Content-Length": str(length),
        }

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        block = b"a" * (64 * 1024)
        sent = 0
        while sent < self.size:
            piece = block[: self.size - sent]
            sent += len(piece)
            yield piece
        yield self.tail


async def test_peak_memory_of_the_server_during_a_ten_mib_upload(
    storage_server: Any, record_property: Any
) -> None:
    server = storage_server
    kind = server.kind
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        api_user = f"mem_{kind}_{time.monotonic_ns() % 10**9}"
        registered = await http.post(
            "/auth/register",
            json={"username": api_user, "email": f"{api_user}@example.com",
                  "password": "correct-horse-1"},
        )  # fmt: skip
        assert registered.status_code == 201, registered.text
        login = await http.post(
            "/auth/login", json={"username": api_user, "password": "correct-horse-1"}
        )
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        task = (await http.post("/tasks", json={"title": "memory"}, headers=auth)).json()
        path = f"/tasks/{task['id']}/files"

        # Warm up: every code path of an upload and a download has run once.
        warm = Counted(2 * MIB)
        response = await http.post(path, content=warm, headers={**warm.headers, **auth})
        assert response.status_code == 201, response.text
        assert len((await http.get(f"/files/{response.json()['id']}", headers=auth)).content)

        phases: dict[str, tuple[int, int]] = {}

        def begin() -> int:
            reset_peak(server.pid)
            return status_kib(server.pid, "VmRSS")

        def finish(name: str, rss_before: int) -> None:
            phases[name] = (rss_before, status_kib(server.pid, "VmHWM"))

        rss = begin()
        body = Counted(LIMIT)
        response = await http.post(path, content=body, headers={**body.headers, **auth})
        finish("upload", rss)
        assert response.status_code == 201, response.text
        assert response.json()["file_size"] == LIMIT

        rss = begin()
        streamed = 0
        async with http.stream("GET", f"/files/{response.json()['id']}", headers=auth) as down:
            async for chunk in down.aiter_bytes():
                streamed += len(chunk)
        finish("download", rss)
        assert streamed == LIMIT

        # One byte more: refused while streaming (the announced length is within the bound).
        rss = begin()
        over = Counted(LIMIT + 1)
        refused = await http.post(path, content=over, headers={**over.headers, **auth})
        finish("refused upload", rss)
        assert refused.status_code == 400
        assert refused.json() == {"detail": "File too large. Max size: 10.0 MB"}

    growth = {name: (peak - rss) / 1024 for name, (rss, peak) in phases.items()}
    report = f"{kind}: " + "; ".join(
        f"{name}: RSS {rss / 1024:.1f} MiB -> peak {peak / 1024:.1f} MiB (+{growth[name]:.1f} MiB)"
        for name, (rss, peak) in phases.items()
    )
    print("\n" + report)
    record_property("peak_memory", report)
    for name, mib in growth.items():
        assert mib < 40, f"{name}: {report}"


GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
PNG_HEAD = b"\x89PNG\r\n\x1a\n"


async def signed_in(http: httpx.AsyncClient, prefix: str) -> dict[str, str]:
    name = f"{prefix}_{time.monotonic_ns() % 10**9}"
    registered = await http.post(
        "/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": "correct-horse-1"},
    )
    assert registered.status_code == 201, registered.text
    login = await http.post("/auth/login", json={"username": name, "password": "correct-horse-1"})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_avatar_replacements_with_the_outbox_worker_running(
    storage_server: Any, peek_bucket: Any
) -> None:
    """#14 item 8 end to end: the in-server worker carries out removals while uploads go on;
    gif -> png -> gif and 20 concurrent uploads each end with one object, served."""
    server = storage_server
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        for scenario in ("sequential", "concurrent"):
            http.cookies.clear()  # the previous scenario's login cookie
            auth = await signed_in(http, f"av_{server.kind}")
            me = (await http.get("/users/me", headers=auth)).json()
            prefix = f"avatars/user_{me['id']}_"
            kinds = [("gif", GIF), ("png", PNG_HEAD + bytes(32))]
            sent = [
                (f"{index}.{ext}", data + str(index).encode(), f"image/{ext}")
                for index, (ext, data) in enumerate(kinds * 10)
            ]
            if scenario == "sequential":
                sent = [sent[0], sent[1], sent[2]]  # gif, png, gif
                answers = [
                    await http.post("/users/me/avatar", files={"file": part}, headers=auth)
                    for part in sent
                ]
            else:
                answers = await asyncio.gather(
                    *(
                        http.post("/users/me/avatar", files={"file": part}, headers=auth)
                        for part in sent
                    )
                )
            assert {a.status_code for a in answers} == {200}, [a.text for a in answers]

            # Only the current object is never queued for removal, so it is what stays.
            async def one_left(prefix: str = prefix) -> bool:
                return len(await stored_objects(server, peek_bucket, prefix)) == 1

            await eventually(one_left)
            url = (await http.get("/users/me", headers=auth)).json()["avatar_url"]
            image = await http.get(url)
            assert image.status_code == 200, f"{scenario}: {image.text}"
            assert image.content in {data for _, data, _ in sent}
            if scenario == "sequential":
                assert image.content == sent[2][1]

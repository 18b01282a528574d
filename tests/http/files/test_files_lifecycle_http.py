"""What happens to stored objects, upload limits and storage outages (§7.4, D18, D19).

Removals go through the outbox: the request commits the row deletion and a `delete_blob`
message together, and the worker (here `container.outbox.run_once()`) removes the object.
"""

from __future__ import annotations

import itertools
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

STORAGE_DOWN = {"detail": "File storage is unavailable, please try again later"}
_addresses = itertools.count(10)


async def pending_removals(engine: AsyncEngine, key_prefix: str) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT payload->>'key' AS key FROM faros.outbox WHERE kind = 'delete_blob' "
                "AND payload->>'key' LIKE :prefix ORDER BY id"
            ),
            {"prefix": f"{key_prefix}%"},
        )
        return [row.key for row in rows]


# --------------------------------------------------------------------------- removal


@pytest.mark.postgres
async def test_deleting_a_file_removes_its_object_through_the_outbox(
    api: Any, files: Any, upload_root: Path, container: Any, engine: AsyncEngine
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    doomed = await api.upload(owner, task["id"], "doomed.txt", b"doomed")
    kept = await api.upload(owner, task["id"], "kept.txt", b"kept")
    stored = files.task_objects(upload_root, task["id"])
    assert len(stored) == 2
    doomed_key = next(n for n in stored if (upload_root / n).read_bytes() == b"doomed")

    response = await api.client.delete(f"/files/{doomed['id']}", headers=owner.auth)
    assert response.status_code == 204
    assert response.content == b""
    again = await api.get(owner, f"/files/{doomed['id']}")
    assert again.status_code == 404
    assert again.json() == {"detail": f"File with ID {doomed['id']} not found"}
    assert [f["id"] for f in (await api.get(owner, f"/tasks/{task['id']}/files")).json()] == [
        kept["id"]
    ]
    # Recorded in the same transaction as the row deletion; the object is still there.
    assert await pending_removals(engine, doomed_key) == [doomed_key]
    assert (upload_root / doomed_key).exists()

    await files.drain_outbox(container, lambda: not (upload_root / doomed_key).exists())
    remaining = files.task_objects(upload_root, task["id"])
    assert len(remaining) == 1
    assert (upload_root / remaining[0]).read_bytes() == b"kept"
    assert (await api.get(owner, f"/files/{kept['id']}")).content == b"kept"

    activity = (await api.get(owner, f"/activity/tasks/{task['id']}")).json()
    deleted = [e for e in activity if e["resource_type"] == "file" and e["action"] == "deleted"]
    assert [(e["resource_id"], e["details"]) for e in deleted] == [
        (doomed["id"], {"task_id": task["id"], "filename": "doomed.txt"})
    ]


async def test_deleting_a_task_removes_all_its_objects(
    api: Any, files: Any, upload_root: Path, container: Any, kit: Any
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    other = await api.task(owner)
    for index in range(3):
        await api.upload(owner, task["id"], f"f{index}.txt", f"file {index}".encode())
    survivor = await api.upload(owner, other["id"], "other.txt", b"other task")
    assert len(files.task_objects(upload_root, task["id"])) == 3

    response = await api.client.delete(f"/tasks/{task['id']}", headers=owner.auth)
    assert response.status_code == 204
    listed = await api.get(owner, f"/tasks/{task['id']}/files")
    assert listed.status_code == 404
    assert listed.json() == kit.not_found(task["id"])

    await files.drain_outbox(container, lambda: files.task_objects(upload_root, task["id"]) == [])
    assert len(files.task_objects(upload_root, other["id"])) == 1
    assert (await api.get(owner, f"/files/{survivor['id']}")).content == b"other task"


# --------------------------------------------------------------------------- rate limit


@pytest.fixture(scope="module")
async def limited_app(
    database_url: str, kit: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Litestar]:
    folder = tmp_path_factory.mktemp("faros-files-limits")
    settings = kit.make_settings(folder, rate_limits=True, redis_url=None)
    application = kit.build_app(settings, database_url)
    async with kit.running(application):
        yield application


@pytest.fixture
async def limited(limited_app: Litestar, kit: Any) -> AsyncIterator[httpx.AsyncClient]:
    number = next(_addresses)
    async with kit.new_client(limited_app, client_ip=f"10.30.0.{number % 250 + 1}") as http:
        yield http


async def test_twenty_first_upload_in_an_hour_is_429(limited: httpx.AsyncClient, kit: Any) -> None:
    api = kit.Api(limited)
    owner = await api.user()
    first, second = await api.task(owner), await api.task(owner)
    path = f"/tasks/{first['id']}/files"
    # Refused before the limit is consulted (422), so not counted.
    for _ in range(3):
        response = await limited.post(path, data={"x": "y"}, headers=owner.auth)
        assert response.status_code == 422
    for index in range(20):
        task = (first, second)[index % 2]
        response = await limited.post(
            f"/tasks/{task['id']}/files",
            files={"file": (f"f{index}.txt", b"x", "text/plain")},
            headers=owner.auth,
        )
        assert response.status_code == 201, (index, response.text)
    refused = await limited.post(
        path, files={"file": ("late.txt", b"x", "text/plain")}, headers=owner.auth
    )
    assert refused.status_code == 429
    assert refused.json() == {"error": "Rate limit exceeded: 20 per 1 hour"}
    assert 1 <= int(refused.headers["retry-after"]) <= 3600
    assert len((await api.get(owner, path)).json()) == 10
    # Another user has a budget of his own; reading is not limited.
    other = await api.user()
    own_task = await api.task(other)
    assert (await api.upload(other, own_task["id"]))["file_size"] == 5
    assert (await api.get(owner, path)).status_code == 200


# --------------------------------------------------------------------------- outages


@pytest.fixture(scope="module")
async def broken_local_app(
    database_url: str, kit: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Litestar]:
    """Local storage whose directory cannot exist: its parent is a regular file.

    Tests run as root, for whom permission bits change nothing; a file in the way makes every
    write fail with a real OSError all the same.
    """
    folder = tmp_path_factory.mktemp("faros-files-broken")
    (folder / "blocker").write_bytes(b"")
    settings = kit.make_settings(folder, upload_dir=folder / "blocker" / "uploads")
    application = kit.build_app(settings, database_url)
    async with kit.running(application):
        yield application


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="module")
async def unreachable_s3_app(
    database_url: str, kit: Any, tmp_path_factory: pytest.TempPathFactory, aws_credentials: None
) -> AsyncIterator[Litestar]:
    folder = tmp_path_factory.mktemp("faros-files-no-s3")
    settings = kit.make_settings(
        folder,
        storage="s3",
        s3_bucket="faros-nowhere",
        s3_endpoint_url=f"http://127.0.0.1:{closed_port()}",
    )
    application = kit.build_app(settings, database_url)
    async with kit.running(application):
        yield application


@pytest.fixture(params=["broken_local_app", "unreachable_s3_app"])
def broken(request: pytest.FixtureRequest) -> tuple[str, Litestar]:
    application: Litestar = request.getfixturevalue(request.param)
    return request.param, application


# The broken apps run on PostgreSQL, so the session app must share their database.
@pytest.mark.postgres
async def test_storage_outage_answers_503_and_writes_nothing(
    broken: tuple[str, Litestar], api: Any, kit: Any, files: Any
) -> None:
    kind, application = broken
    owner = await api.user()
    task = await api.task(owner)
    # A file stored while storage worked (the session app), to read through the broken one.
    earlier = await api.upload(owner, task["id"], "earlier.txt", b"earlier")
    async with kit.new_client(application) as http:
        upload = await http.post(
            f"/tasks/{task['id']}/files",
            files={"file": ("new.txt", b"new bytes", "text/plain")},
            headers=owner.auth,
        )
        assert upload.status_code == 503
        assert upload.json() == STORAGE_DOWN

        download = await http.get(f"/files/{earlier['id']}", headers=owner.auth)
        if kind == "unreachable_s3_app":
            assert download.status_code == 503
            assert download.json() == STORAGE_DOWN
        else:
            # This app's root is not a directory, so it holds no object by any key.
            assert download.status_code == 404
            assert download.json() == {"detail": "File not found in storage"}

        avatar = await http.post(
            "/users/me/avatar",
            files={"file": ("me.png", files.PNG, "image/png")},
            headers=owner.auth,
        )
        assert avatar.status_code == 503
        assert avatar.json() == STORAGE_DOWN
        profile = await http.get("/users/me", headers=owner.auth)
        assert profile.json()["avatar_url"] is None

        # Refusals that need no storage still answer as usual.
        refused = await http.post(
            f"/tasks/{task['id']}/files",
            files={"file": ("x.exe", b"MZ", "application/octet-stream")},
            headers=owner.auth,
        )
        assert refused.status_code == 400

    # No row and no activity for the failed upload.
    listed = (await api.get(owner, f"/tasks/{task['id']}/files")).json()
    assert [f["original_filename"] for f in listed] == ["earlier.txt"]
    activity = (await api.get(owner, f"/activity/tasks/{task['id']}")).json()
    assert [e["details"]["filename"] for e in activity if e["resource_type"] == "file"] == [
        "earlier.txt"
    ]


@pytest.mark.postgres
async def test_delete_during_an_outage_still_answers_204(
    unreachable_s3_app: Litestar, api: Any, kit: Any, engine: AsyncEngine
) -> None:
    """Removal is queued, not attempted in the request, so storage being down cannot fail it."""
    owner = await api.user()
    task = await api.task(owner)
    uploaded = await api.upload(owner, task["id"], "later.txt", b"x")
    async with kit.new_client(unreachable_s3_app) as http:
        response = await http.delete(f"/files/{uploaded['id']}", headers=owner.auth)
    assert response.status_code == 204
    assert (await api.get(owner, f"/tasks/{task['id']}/files")).json() == []
    assert len(await pending_removals(engine, f"task_{task['id']}_")) == 1

"""Task attachments through HTTP (§3.6, §7): one smoke test per route and the edge errors.

Storage behaviour in depth (S3, streaming caps, object removal) has its own suites.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.every_backend


async def test_upload_list_download_delete(api: Any) -> None:
    owner = await api.user()
    viewer = await api.user()
    task = await api.task(owner)
    await api.share(owner, task["id"], viewer, "view")
    response = await api.client.post(
        f"/tasks/{task['id']}/files",
        files={"file": ("Report Q1.TXT", b"hello world", "text/plain")},
        headers=owner.auth,
    )
    assert response.status_code == 201
    uploaded = response.json()
    assert list(uploaded) == [
        "id",
        "task_id",
        "original_filename",
        "file_size",
        "content_type",
        "uploaded_at",
    ]
    assert (
        uploaded["task_id"],
        uploaded["original_filename"],
        uploaded["file_size"],
        uploaded["content_type"],
    ) == (task["id"], "Report Q1.TXT", 11, "text/plain")
    assert uploaded["uploaded_at"].endswith("Z")

    listed = await api.get(viewer, f"/tasks/{task['id']}/files")
    assert listed.status_code == 200
    assert listed.json() == [{k: v for k, v in uploaded.items() if k != "task_id"}]

    download = await api.get(viewer, f"/files/{uploaded['id']}")
    assert download.status_code == 200
    assert download.content == b"hello world"
    assert download.headers["content-type"].startswith("text/plain")
    assert download.headers["content-length"] == "11"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"] in (
        'attachment; filename="Report Q1.TXT"',
        "attachment; filename*=utf-8''Report%20Q1.TXT",
    )

    deleted = await api.client.delete(f"/files/{uploaded['id']}", headers=owner.auth)
    assert deleted.status_code == 204
    assert deleted.content == b""
    gone = await api.get(owner, f"/files/{uploaded['id']}")
    assert gone.status_code == 404
    assert gone.json() == {"detail": f"File with ID {uploaded['id']} not found"}
    assert (await api.get(owner, f"/tasks/{task['id']}/files")).json() == []


async def test_non_ascii_name_uses_rfc5987(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    stored = await api.upload(owner, task["id"], "résumé.txt", b"cv")
    assert stored["original_filename"] == "résumé.txt"
    download = await api.get(owner, f"/files/{stored['id']}")
    assert download.headers["content-disposition"] == (
        "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt"
    )


async def test_upload_errors(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    path = f"/tasks/{task['id']}/files"
    exe = await api.client.post(
        path, files={"file": ("tool.EXE", b"MZ", "application/octet-stream")}, headers=owner.auth
    )
    assert exe.status_code == 400
    assert exe.json()["detail"].startswith("File type .exe not allowed. Allowed types: ")
    none = await api.client.post(
        path, files={"file": ("README", b"x", "text/plain")}, headers=owner.auth
    )
    assert none.status_code == 400
    assert none.json()["detail"].startswith("File type  not allowed.")
    missing = await api.client.post(
        path, files={"other": ("a.txt", b"x", "text/plain")}, headers=owner.auth
    )
    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {"type": "missing", "loc": ["body", "file"], "msg": "Field required", "input": None}
    ]
    plain_field = await api.client.post(
        path, data={"file": "just text"}, files={"x": ("a", b"")}, headers=owner.auth
    )
    assert plain_field.status_code == 422
    assert plain_field.json()["errors"][0]["type"] == "value_error"
    assert plain_field.json()["errors"][0]["loc"] == ["body", "file"]
    not_multipart = await api.client.post(path, json={"file": "x"}, headers=owner.auth)
    assert not_multipart.status_code == 422


async def test_upload_size_limit(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    path = f"/tasks/{task['id']}/files"
    limit = 10 * 1024 * 1024
    exact = await api.client.post(
        path, files={"file": ("big.txt", b"a" * limit, "text/plain")}, headers=owner.auth
    )
    assert exact.status_code == 201
    assert exact.json()["file_size"] == limit
    over = await api.client.post(
        path, files={"file": ("big.txt", b"a" * (limit + 1), "text/plain")}, headers=owner.auth
    )
    assert over.status_code == 400
    assert over.json() == {"detail": "File too large. Max size: 10.0 MB"}
    empty = await api.client.post(
        path, files={"file": ("empty.txt", b"", "text/plain")}, headers=owner.auth
    )
    assert empty.status_code == 201
    assert empty.json()["file_size"] == 0
    assert [f["file_size"] for f in (await api.get(owner, path)).json()] == [limit, 0]


async def test_upload_to_missing_task(api: Any, kit: Any) -> None:
    owner = await api.user()
    response = await api.client.post(
        "/tasks/2147483000/files", files={"file": ("a.txt", b"x", "text/plain")}, headers=owner.auth
    )
    assert response.status_code == 404
    assert response.json() == kit.not_found(2147483000)

"""What a client says about its file: the part's name and declared type (#14 items 6 and 7).

A name or type FAROS could not store (NUL, over 255 characters) or could not serve back (a
control character in a header value) is refused with a 400 before anything is written; the
type kept and served is the one FAROS chose for the extension, never the client's string.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

CONTROL_IN_NAME = {"detail": "File name must not contain control characters"}
NAME_TOO_LONG = {"detail": "File name too long. Max length: 255 characters"}
BAD_TYPE = {"detail": "Invalid file content type"}
NOT_AN_IMAGE = {"detail": "File must be an image"}


async def post_raw(
    api: Any, files: Any, who: Any, path: str, name: str, data: bytes, content_type: str | None
) -> httpx.Response:
    """A hand-written part: httpx would percent-encode control characters in the name."""
    body, headers = files.raw_multipart(
        f'form-data; name="file"; filename="{name}"', data, content_type=content_type
    )
    response: httpx.Response = await api.client.post(
        path, content=body, headers={**headers, **who.auth}
    )
    return response


async def nothing_kept(api: Any, files: Any, upload_root: Path, who: Any, task_id: int) -> None:
    assert (await api.get(who, f"/tasks/{task_id}/files")).json() == []
    assert files.task_objects(upload_root, task_id) == []
    assert files.leftovers(upload_root) == []


# --------------------------------------------------------------------------- names (item 6)


@pytest.mark.parametrize(
    "name",
    ["nul\x00byte.txt", "bell\x07.txt", "esc\x1b[31m.txt", "del\x7f.txt", "c1\x85next.txt"],
)
async def test_control_characters_in_a_name_are_refused(
    api: Any, files: Any, upload_root: Path, name: str
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    path = f"/tasks/{task['id']}/files"
    response = await post_raw(api, files, owner, path, name, b"words", "text/plain")
    assert response.status_code == 400, response.text
    assert response.json() == CONTROL_IN_NAME
    await nothing_kept(api, files, upload_root, owner, task["id"])


async def test_names_up_to_255_characters_are_kept_longer_ones_refused(
    api: Any, files: Any, upload_root: Path
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    longest = "é" * 251 + ".txt"  # 255 characters (the column counts characters, not bytes)
    kept = await api.upload(owner, task["id"], longest, b"words")
    assert kept["original_filename"] == longest
    download = await api.get(owner, f"/files/{kept['id']}")
    assert (download.status_code, download.content) == (200, b"words")

    for name in ("a" * 252 + ".txt", "é" * 252 + ".txt", "x" * 1000 + ".txt"):
        response = await api.client.post(
            f"/tasks/{task['id']}/files",
            files={"file": (name, b"words", "text/plain")},
            headers=owner.auth,
        )
        assert response.status_code == 400, response.text
        assert response.json() == NAME_TOO_LONG
    listed = (await api.get(owner, f"/tasks/{task['id']}/files")).json()
    assert [f["id"] for f in listed] == [kept["id"]]
    assert len(files.task_objects(upload_root, task["id"])) == 1


# --------------------------------------------------------------------------- types (items 6, 7)


@pytest.mark.parametrize(
    "declared",
    [
        "text/plain\x00x",
        "text/plain\x01",
        "text/plain\x7f",
        "text/plain; charset=\x01utf-8",
        "text/plain,text/html",  # a list: browsers obey its last member
        "text/plain, text/html",
        "text/plain;,text/html",
        "text/html;text/plain",
        "text",
        "text/",
        "/plain",
        "text/plain/html",
        'text/plain; charset="utf-8',
        "text/pl ain",
    ],
)
async def test_a_declared_type_that_is_not_one_media_type_is_refused(
    api: Any, files: Any, upload_root: Path, declared: str
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    path = f"/tasks/{task['id']}/files"
    response = await post_raw(api, files, owner, path, "notes.txt", b"plain words", declared)
    assert response.status_code == 400, response.text
    assert response.json() == BAD_TYPE
    await nothing_kept(api, files, upload_root, owner, task["id"])


@pytest.mark.parametrize(
    ("name", "data_name", "declared", "kept", "served"),
    [
        ("notes.txt", None, "text/plain", "text/plain", "text/plain; charset=utf-8"),
        ("notes.txt", None, "text/plain; charset=utf-8", "text/plain", "text/plain; charset=utf-8"),
        (
            "notes.txt",
            None,
            'Text/Plain; charset="latin1"',
            "text/plain",
            "text/plain; charset=utf-8",
        ),
        ("table.txt", None, "text/csv", "text/plain", "text/plain; charset=utf-8"),
        ("notes.txt", None, "application/octet-stream", "text/plain", "text/plain; charset=utf-8"),
        ("photo.jpg", "JPEG", "image/pjpeg", "image/jpeg", "image/jpeg"),
        ("photo.JPEG", "JPEG", "application/x-anything", "image/jpeg", "image/jpeg"),
        ("image.png", "PNG", "IMAGE/PNG; foo=bar", "image/png", "image/png"),
        ("anim.gif", "GIF", "image/gif", "image/gif", "image/gif"),
        ("report.pdf", "PDF", "application/pdf", "application/pdf", "application/pdf"),
        ("letter.doc", "DOC", "application/msword", "application/msword", "application/msword"),
        (
            "letter.docx",
            "DOCX",
            "application/octet-stream",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
async def test_the_kept_type_is_chosen_by_faros_from_the_extension(
    api: Any,
    files: Any,
    name: str,
    data_name: str | None,
    declared: str,
    kept: str,
    served: str,
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    data = getattr(files, data_name) if data_name else b"plain words"
    path = f"/tasks/{task['id']}/files"
    response = await post_raw(api, files, owner, path, name, data, declared)
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == kept
    assert [f["content_type"] for f in (await api.get(owner, path)).json()] == [kept]
    download = await api.get(owner, f"/files/{response.json()['id']}")
    assert download.headers["content-type"] == served
    assert download.content == data


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("stored_type", "extension", "data_name", "served"),
    [
        ("text/plain,text/html", ".txt", None, "text/plain; charset=utf-8"),
        ("text/plain\x01", ".txt", None, "text/plain; charset=utf-8"),
        ("text/html", ".txt", None, "text/plain; charset=utf-8"),
        ("image/png,text/html", ".png", "PNG", "image/png"),
        ("text/html", ".exe", None, "application/octet-stream"),
    ],
)
async def test_rows_stored_before_the_fix_are_served_safely(
    api: Any,
    files: Any,
    upload_root: Path,
    engine: AsyncEngine,
    stored_type: str,
    extension: str,
    data_name: str | None,
    served: str,
) -> None:
    """Types (and extensions) written by earlier versions are not trusted on the way out."""
    owner = await api.user()
    task = await api.task(owner)
    data = getattr(files, data_name) if data_name else b"plain words"
    path = f"/tasks/{task['id']}/files"
    name = "f.png" if data_name else "f.txt"
    uploaded = (await post_raw(api, files, owner, path, name, data, None)).json()
    (key,) = files.task_objects(upload_root, task["id"])
    legacy_key = key.rsplit(".", 1)[0] + extension
    (upload_root / key).rename(upload_root / legacy_key)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE faros.task_files SET content_type = :type, stored_filename = :key"
                " WHERE id = :id"
            ),
            {"type": stored_type, "key": legacy_key, "id": uploaded["id"]},
        )
    download = await api.get(owner, f"/files/{uploaded['id']}")
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == served
    assert download.content == data


@pytest.mark.postgres
async def test_names_stored_before_the_fix_stay_safe_in_content_disposition(
    api: Any, engine: AsyncEngine
) -> None:
    """A guard rather than a fix: RFC 5987 encoding already kept such names out of the header."""
    owner = await api.user()
    task = await api.task(owner)
    uploaded = await api.upload(owner, task["id"], "notes.txt", b"plain words")
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE faros.task_files SET original_filename = :name WHERE id = :id"),
            {"name": 'evil\r\nSet-Cookie: a=b; "x\x01.txt', "id": uploaded["id"]},
        )
    download = await api.get(owner, f"/files/{uploaded['id']}")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == (
        "attachment; filename*=utf-8''evil%0D%0ASet-Cookie%3A%20a%3Db%3B%20%22x%01.txt"
    )
    assert "set-cookie" not in download.headers


# --------------------------------------------------------------------------- avatars


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("me\x00.png", CONTROL_IN_NAME),
        ("m\x1be.png", CONTROL_IN_NAME),
        ("m" * 300 + ".png", NAME_TOO_LONG),
    ],
)
async def test_avatar_names_follow_the_same_rules(
    api: Any, files: Any, upload_root: Path, name: str, detail: dict[str, str]
) -> None:
    account = await api.user()
    path = "/users/me/avatar"
    response = await post_raw(api, files, account, path, name, files.PNG, "image/png")
    assert response.status_code == 400, response.text
    assert response.json() == detail
    assert (await api.get(account, "/users/me")).json()["avatar_url"] is None
    assert not list((upload_root / "avatars").glob(f"user_{account.id}_*"))

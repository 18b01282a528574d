"""Avatars (§3.9, §7.3, D20): upload, public download, replacement, refusals."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

NOT_AN_IMAGE = {"detail": "File must be an image"}


async def post_avatar(
    api: Any, who: Any, name: str, data: bytes, content_type: str | None
) -> httpx.Response:
    part = (name, data) if content_type is None else (name, data, content_type)
    response: httpx.Response = await api.client.post(
        "/users/me/avatar", files={"file": part}, headers=who.auth
    )
    return response


def avatar_objects(root: Path, user_id: int) -> list[str]:
    folder = root / "avatars"
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.glob(f"user_{user_id}_*") if p.is_file())


def is_avatar_object(name: str, user_id: int, extension: str) -> bool:
    """Each upload has a key of its own (#14 item 8): `user_<id>_avatar_<32 hex><ext>`."""
    return (
        re.fullmatch(rf"user_{user_id}_avatar_[0-9a-f]{{32}}{re.escape(extension)}", name)
        is not None
    )


def one_avatar_object(root: Path, user_id: int, extension: str) -> str:
    (name,) = avatar_objects(root, user_id)
    assert is_avatar_object(name, user_id, extension), name
    return name


@pytest.mark.parametrize(
    ("name", "data_name", "content_type", "extension", "served_type"),
    [
        ("me.png", "PNG", "image/png", ".png", "image/png"),
        ("Me.JPG", "JPEG", "image/jpeg", ".jpg", "image/jpeg"),
        ("me.jpeg", "JPEG", "image/jpeg", ".jpeg", "image/jpeg"),
        ("me.gif", "GIF", "image/gif", ".gif", "image/gif"),
        ("me.webp", "WEBP", "image/webp", ".webp", "image/webp"),
        # No extension in the name: taken from the bytes (#16).
        ("blob", "PNG", "image/png", ".png", "image/png"),
        ("camera", "JPEG", "image/jpeg", ".jpg", "image/jpeg"),
    ],
)
async def test_upload_and_public_download(
    api: Any,
    anon: httpx.AsyncClient,
    files: Any,
    upload_root: Path,
    name: str,
    data_name: str,
    content_type: str,
    extension: str,
    served_type: str,
) -> None:
    account = await api.user()
    data = getattr(files, data_name)
    response = await post_avatar(api, account, name, data, content_type)
    assert response.status_code == 200, response.text
    url = f"/users/{account.id}/avatar{extension}"
    assert response.json() == {"avatar_url": url}
    assert (await api.get(account, "/users/me")).json()["avatar_url"] == url
    one_avatar_object(upload_root, account.id, extension)

    image = await anon.get(url)  # public: no credentials at all
    assert image.status_code == 200
    assert image.content == data
    assert image.headers["content-type"] == served_type
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.headers["content-length"] == str(len(data))


async def test_url_extension_is_case_insensitive(
    api: Any, anon: httpx.AsyncClient, files: Any
) -> None:
    account = await api.user()
    assert (await post_avatar(api, account, "me.png", files.PNG, "image/png")).status_code == 200
    image = await anon.get(f"/users/{account.id}/avatar.PNG")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content == files.PNG


async def test_not_found_answers(api: Any, anon: httpx.AsyncClient, files: Any) -> None:
    account = await api.user()
    # No avatar yet.
    for path in (f"/users/{account.id}/avatar.png", f"/users/{account.id}/avatar.jpg"):
        response = await anon.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Avatar not found"}
    # Unknown user.
    response = await anon.get("/users/2147483003/avatar.png")
    assert response.status_code == 404
    assert response.json() == {"detail": "Avatar not found"}

    assert (await post_avatar(api, account, "me.png", files.PNG, "image/png")).status_code == 200
    # No dot: not an avatar route at all.
    bare = await anon.get(f"/users/{account.id}/avatar")
    assert bare.status_code == 404
    assert bare.json() == {"detail": "Not Found"}
    # Another extension than the stored one; and segments that would make unusable keys
    # (NUL, dots, a 300-character name) are plain misses, never 500 or 503.
    for segment in ("avatar.gif", "avatar.%00", "avatar..", "avatar.png.", "avatar." + "x" * 300):
        response = await anon.get(f"/users/{account.id}/{segment}")
        assert response.status_code == 404, segment
        assert response.json() == {"detail": "Avatar not found"}


@pytest.mark.every_backend
@pytest.mark.parametrize(
    ("name", "declared", "extension"),
    [
        # What client libraries send for a file they cannot type (#16): the bytes decide.
        ("me.png", "application/octet-stream", ".png"),
        ("blob", "application/octet-stream", ".png"),
        # A declared type that names another format, or none, does not override the bytes.
        ("me.png", "image/jpeg", ".png"),
        ("blob", "image/gif", ".png"),
        ("me.png", "text/plain", ".png"),
        ("me.png", "text/html", ".png"),
        # Nor does one that is not a media type at all: it is never read, stored or served.
        ("me.png", "image/png,text/html", ".png"),
        ("me.png", "image/png\x01", ".png"),
        ("me.png", "image/", ".png"),
    ],
)
async def test_the_bytes_decide_the_type_whatever_the_part_declares(
    api: Any,
    anon: httpx.AsyncClient,
    files: Any,
    upload_root: Path,
    name: str,
    declared: str | None,
    extension: str,
) -> None:
    account = await api.user()
    body, headers = files.raw_multipart(
        f'form-data; name="file"; filename="{name}"', files.PNG, content_type=declared
    )
    response = await api.client.post(
        "/users/me/avatar", content=body, headers={**headers, **account.auth}
    )
    assert response.status_code == 200, response.text
    url = f"/users/{account.id}/avatar{extension}"
    assert response.json() == {"avatar_url": url}
    one_avatar_object(upload_root, account.id, extension)
    image = await anon.get(url)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.headers["cache-control"] == "public, max-age=60"
    assert image.content == files.PNG


@pytest.mark.every_backend
@pytest.mark.parametrize(
    ("name", "data", "declared"),
    [
        ("me.png", b"just text", "application/octet-stream"),
        ("me.png", b"<svg onload='alert(1)'/>", "image/png"),
        ("blob", b"%PDF-1.7", "image/png"),
        ("me.gif", b"", "image/gif"),  # empty: no image at all
        ("notes", b"just text", None),
        # D20: a part declaring no type is refused, even holding a real image.
        ("me.png", "PNG", None),
        ("blob", "PNG", None),
    ],
)
async def test_bytes_that_are_no_image_are_refused(
    api: Any, files: Any, upload_root: Path, name: str, data: bytes | str, declared: str | None
) -> None:
    account = await api.user()
    if data == "PNG":
        data = files.PNG
    body, headers = files.raw_multipart(
        f'form-data; name="file"; filename="{name}"', data, content_type=declared
    )
    response = await api.client.post(
        "/users/me/avatar", content=body, headers={**headers, **account.auth}
    )
    assert response.status_code == 400
    assert response.json() == NOT_AN_IMAGE
    assert avatar_objects(upload_root, account.id) == []
    assert (await api.get(account, "/users/me")).json()["avatar_url"] is None


@pytest.mark.parametrize(
    ("name", "data_name", "content_type", "detail"),
    [
        ("me.bmp", "PNG", "image/bmp", "Avatar must be one of: .gif, .jpeg, .jpg, .png, .webp"),
        ("me.svg", None, "image/svg+xml", "Avatar must be one of: .gif, .jpeg, .jpg, .png, .webp"),
        # The name's extension names the URL and so the served type: it must be the bytes'.
        ("me.png", "JPEG", "image/png", "File content does not match its type"),
        ("me.jpg", "PNG", "image/jpeg", "File content does not match its type"),
        ("me.webp", "GIF", "application/octet-stream", "File content does not match its type"),
    ],
)
async def test_refused_images(
    api: Any,
    files: Any,
    upload_root: Path,
    name: str,
    data_name: str | None,
    content_type: str,
    detail: str,
) -> None:
    account = await api.user()
    data = getattr(files, data_name) if data_name else b"<svg onload='alert(1)'/>"
    response = await post_avatar(api, account, name, data, content_type)
    assert response.status_code == 400
    assert response.json() == {"detail": detail}
    assert avatar_objects(upload_root, account.id) == []


async def test_size_cap(api: Any, files: Any, upload_root: Path) -> None:
    account = await api.user()
    cap = 5 * files.MIB
    exact = files.png_of_size(cap)
    accepted = await post_avatar(api, account, "big.png", exact, "image/png")
    assert accepted.status_code == 200, accepted.text
    for size in (cap + 1, 7 * files.MIB):
        refused = await post_avatar(api, account, "big.png", files.png_of_size(size), "image/png")
        assert refused.status_code == 400
        assert refused.json() == {"detail": "File too large. Max size: 5.0 MB"}
    # The refused uploads left the accepted avatar alone.
    one_avatar_object(upload_root, account.id, ".png")
    assert files.leftovers(upload_root) == []
    assert (await api.get(account, "/users/me")).json()["avatar_url"].endswith("avatar.png")


async def test_oversized_avatar_is_refused_unread(api: Any, files: Any) -> None:
    account = await api.user()
    body = files.CountingBody("b-avatar", "huge.png", 40 * files.MIB, "image/png")
    response = await api.client.post(
        "/users/me/avatar", content=body, headers={**body.headers, **account.auth}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "File too large. Max size: 5.0 MB"}
    assert body.pulled == 0


async def test_replacing_with_another_extension_removes_the_old_object(
    api: Any, anon: httpx.AsyncClient, files: Any, upload_root: Path, container: Any
) -> None:
    account = await api.user()
    assert (await post_avatar(api, account, "a.png", files.PNG, "image/png")).status_code == 200
    old = upload_root / "avatars" / one_avatar_object(upload_root, account.id, ".png")
    replaced = await post_avatar(api, account, "b.jpg", files.JPEG, "image/jpeg")
    assert replaced.json() == {"avatar_url": f"/users/{account.id}/avatar.jpg"}
    assert (await api.get(account, "/users/me")).json()["avatar_url"] == (
        f"/users/{account.id}/avatar.jpg"
    )
    await files.drain_outbox(container, lambda: not old.exists())
    one_avatar_object(upload_root, account.id, ".jpg")
    gone = await anon.get(f"/users/{account.id}/avatar.png")
    assert gone.status_code == 404
    assert gone.json() == {"detail": "Avatar not found"}
    current = await anon.get(f"/users/{account.id}/avatar.jpg")
    assert (current.status_code, current.content) == (200, files.JPEG)


async def test_replacing_with_the_same_extension_keeps_only_the_new_object(
    api: Any, anon: httpx.AsyncClient, files: Any, upload_root: Path, container: Any
) -> None:
    account = await api.user()
    first = files.png_of_size(1000)
    second = files.png_of_size(2000)
    assert (await post_avatar(api, account, "a.png", first, "image/png")).status_code == 200
    old = upload_root / "avatars" / one_avatar_object(upload_root, account.id, ".png")
    assert (await post_avatar(api, account, "b.PNG", second, "image/png")).status_code == 200
    await files.drain_outbox(container, lambda: not old.exists())
    one_avatar_object(upload_root, account.id, ".png")
    assert (await anon.get(f"/users/{account.id}/avatar.png")).content == second


# --------------------------------------------------------------------------- #14 item 8


async def run_outbox(container: Any) -> None:
    """Carry out every removal due now (other tests' messages may share the batches)."""
    for _ in range(100):
        if await container.outbox.run_once() == 0:
            return
    raise AssertionError("the outbox did not run dry")


@pytest.mark.parametrize("outbox_between", [False, True])
async def test_gif_png_gif_always_leaves_a_downloadable_avatar(
    api: Any,
    anon: httpx.AsyncClient,
    files: Any,
    upload_root: Path,
    container: Any,
    outbox_between: bool,
) -> None:
    """The queued removal of the first gif must not delete the second (same extension)."""
    account = await api.user()
    uploads = [("a.gif", files.GIF, "image/gif"), ("b.png", files.PNG, "image/png")] * 2
    uploads.append(("c.gif", files.GIF + b"\x00last", "image/gif"))
    for name, data, declared in uploads:
        response = await post_avatar(api, account, name, data, declared)
        assert response.status_code == 200, response.text
        if outbox_between:
            await run_outbox(container)
    await run_outbox(container)
    url = (await api.get(account, "/users/me")).json()["avatar_url"]
    assert url == f"/users/{account.id}/avatar.gif"
    image = await anon.get(url)
    assert (image.status_code, image.content) == (200, files.GIF + b"\x00last")
    one_avatar_object(upload_root, account.id, ".gif")


async def test_concurrent_uploads_end_with_one_working_avatar_and_one_object(
    api: Any, anon: httpx.AsyncClient, files: Any, upload_root: Path, container: Any
) -> None:
    account = await api.user()
    kinds = [("gif", files.GIF, "image/gif"), ("png", files.PNG, "image/png")]
    # Each upload's bytes are its own, so the survivor is known to be one whole upload.
    sent = {
        index: (f"{index}.{ext}", data + b"\x00" + str(index).encode(), declared)
        for index, (ext, data, declared) in enumerate(kinds * 10)
    }
    answers = await asyncio.gather(
        *(post_avatar(api, account, *upload) for upload in sent.values())
    )
    assert [a.status_code for a in answers] == [200] * len(sent), [a.text for a in answers]
    await run_outbox(container)

    url = (await api.get(account, "/users/me")).json()["avatar_url"]
    image = await anon.get(url)
    assert image.status_code == 200, image.text
    assert image.content in {data for _, data, _ in sent.values()}
    one_avatar_object(upload_root, account.id, url.rsplit("/avatar", 1)[1])
    assert files.leftovers(upload_root) == []


async def test_upload_needs_auth_and_a_file_part(
    api: Any, anon: httpx.AsyncClient, files: Any, kit: Any
) -> None:
    response = await anon.post(
        "/users/me/avatar", files={"file": ("a.png", files.PNG, "image/png")}
    )
    assert response.status_code == 401
    assert response.json() == kit.not_authenticated
    account = await api.user()
    missing = await api.client.post(
        "/users/me/avatar", files={"image": ("a.png", files.PNG, "image/png")}, headers=account.auth
    )
    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {"type": "missing", "loc": ["body", "file"], "msg": "Field required", "input": None}
    ]


@pytest.mark.postgres
async def test_account_gone_while_uploading_leaves_no_object(
    api: Any, files: Any, upload_root: Path, engine: AsyncEngine
) -> None:
    """The row is updated after the bytes are stored; if that fails, the new object goes."""
    account = await api.user()

    async def remove_account_half_way(sent: int) -> None:
        if sent == files.MIB:
            async with engine.begin() as connection:
                await connection.execute(
                    text("DELETE FROM faros.users WHERE id = :id"), {"id": account.id}
                )

    body = files.CountingBody(
        "b-gone", "me.png", 2 * files.MIB, "image/png", between=remove_account_half_way
    )
    body.first = files.PNG  # the sniffer sees a real PNG head
    response = await api.client.post(
        "/users/me/avatar", content=body, headers={**body.headers, **account.auth}
    )
    assert response.status_code == 401, response.text
    assert avatar_objects(upload_root, account.id) == []
    assert files.leftovers(upload_root) == []

"""The same attachment and avatar flows with FAROS_STORAGE=s3, against a moto S3 server.

The app here has its own database, so its outbox worker only ever sees this module's removals,
and its own bucket, which a plain client inspects behind the app's back.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from litestar import Litestar

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

pytestmark = [pytest.mark.postgres, pytest.mark.s3]


@pytest.fixture(scope="module")
async def bucket(s3_admin: S3Client) -> str:
    name = f"faros-http-{uuid.uuid4().hex[:16]}"
    await s3_admin.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
async def s3_app(
    database_factory: Any,
    moto_endpoint: str,
    bucket: str,
    kit: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Litestar]:
    folder = tmp_path_factory.mktemp("faros-files-s3")
    settings = kit.make_settings(
        folder, storage="s3", s3_bucket=bucket, s3_endpoint_url=moto_endpoint
    )
    application = kit.build_app(settings, await database_factory.create())
    async with kit.running(application):
        yield application


@pytest.fixture
async def s3api(s3_app: Litestar, kit: Any) -> AsyncIterator[Any]:
    async with kit.new_client(s3_app) as http:
        yield kit.Api(http)


class Bucket:
    def __init__(self, s3: S3Client, name: str) -> None:
        self.s3 = s3
        self.name = name

    async def keys(self, prefix: str) -> list[str]:
        listed = await self.s3.list_objects_v2(Bucket=self.name, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    async def unfinished_uploads(self) -> list[str]:
        listed = await self.s3.list_multipart_uploads(Bucket=self.name)
        return [item["Key"] for item in listed.get("Uploads", [])]

    async def read(self, key: str) -> tuple[bytes, str]:
        got = await self.s3.get_object(Bucket=self.name, Key=key)
        async with got["Body"] as body:
            return await body.read(), got["ContentType"]


@pytest.fixture
def store(s3_admin: S3Client, bucket: str) -> Bucket:
    return Bucket(s3_admin, bucket)


async def drain(app: Litestar, store: Bucket, prefix: str, expected: list[str]) -> None:
    for _ in range(20):
        if await store.keys(prefix) == expected:
            return
        await app.state.container.outbox.run_once()
    assert await store.keys(prefix) == expected


async def test_upload_list_download_delete_byte_exact(
    s3api: Any, s3_app: Litestar, store: Bucket, files: Any
) -> None:
    owner = await s3api.user()
    viewer = await s3api.user()
    task = await s3api.task(owner)
    await s3api.share(owner, task["id"], viewer, "view")
    data = b"%PDF-1.7\r\n--\r\n" + files.binary(3 * files.MIB + 4321)
    response = await s3api.client.post(
        f"/tasks/{task['id']}/files",
        files={"file": ("Résumé Q1.pdf", data, "application/pdf")},
        headers=owner.auth,
    )
    assert response.status_code == 201, response.text
    uploaded = response.json()
    assert uploaded["file_size"] == len(data)
    (key,) = await store.keys(f"task_{task['id']}_")
    assert key.endswith(".pdf")
    assert await store.read(key) == (data, "application/pdf")

    listed = await s3api.get(viewer, f"/tasks/{task['id']}/files")
    assert listed.json() == [{k: v for k, v in uploaded.items() if k != "task_id"}]
    download = await s3api.get(viewer, f"/files/{uploaded['id']}")
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-length"] == str(len(data))
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"] == (
        "attachment; filename*=utf-8''R%C3%A9sum%C3%A9%20Q1.pdf"
    )

    refused = await s3api.client.delete(f"/files/{uploaded['id']}", headers=viewer.auth)
    assert refused.status_code == 403
    deleted = await s3api.client.delete(f"/files/{uploaded['id']}", headers=owner.auth)
    assert deleted.status_code == 204
    assert (await s3api.get(owner, f"/files/{uploaded['id']}")).status_code == 404
    await drain(s3_app, store, f"task_{task['id']}_", [])


@pytest.mark.slow
async def test_ten_mib_goes_up_in_parts_and_one_more_byte_leaves_nothing(
    s3api: Any, store: Bucket, files: Any
) -> None:
    owner = await s3api.user()
    task = await s3api.task(owner)
    exact = files.png_of_size(files.LIMIT)
    accepted = await s3api.client.post(
        f"/tasks/{task['id']}/files",
        files={"file": ("big.png", exact, "image/png")},
        headers=owner.auth,
    )
    assert accepted.status_code == 201, accepted.text
    download = await s3api.get(owner, f"/files/{accepted.json()['id']}")
    assert download.content == exact

    # Two 5 MiB parts are sent before the cap hits, so this is the multipart abort path.
    over = await s3api.client.post(
        f"/tasks/{task['id']}/files",
        files={"file": ("over.png", exact + b"\x00", "image/png")},
        headers=owner.auth,
    )
    assert over.status_code == 400
    assert over.json() == {"detail": "File too large. Max size: 10.0 MB"}
    assert len(await store.keys(f"task_{task['id']}_")) == 1
    # The two parts sent before the cap hit were aborted, not left to be billed.
    assert await store.unfinished_uploads() == []


async def test_deleting_a_task_removes_its_objects(
    s3api: Any, s3_app: Litestar, store: Bucket
) -> None:
    owner = await s3api.user()
    task = await s3api.task(owner)
    for index in range(3):
        await s3api.upload(owner, task["id"], f"n{index}.txt", b"note")
    assert len(await store.keys(f"task_{task['id']}_")) == 3
    assert (
        await s3api.client.delete(f"/tasks/{task['id']}", headers=owner.auth)
    ).status_code == 204
    await drain(s3_app, store, f"task_{task['id']}_", [])


async def test_avatars(s3api: Any, s3_app: Litestar, store: Bucket, files: Any, kit: Any) -> None:
    account = await s3api.user()
    anon: httpx.AsyncClient
    async with kit.new_client(s3_app) as anon:
        first = await s3api.client.post(
            "/users/me/avatar",
            files={"file": ("me.png", files.PNG, "image/png")},
            headers=account.auth,
        )
        assert first.json() == {"avatar_url": f"/users/{account.id}/avatar.png"}
        prefix = f"avatars/user_{account.id}_"
        (first_key,) = await store.keys(prefix)
        assert await store.read(first_key) == (files.PNG, "image/png")
        image = await anon.get(f"/users/{account.id}/avatar.png")
        assert (image.status_code, image.content) == (200, files.PNG)
        assert image.headers["content-type"] == "image/png"
        assert image.headers["x-content-type-options"] == "nosniff"

        second = await s3api.client.post(
            "/users/me/avatar",
            files={"file": ("me.webp", files.WEBP, "image/webp")},
            headers=account.auth,
        )
        assert second.json() == {"avatar_url": f"/users/{account.id}/avatar.webp"}
        await outbox_dry(s3_app)
        (second_key,) = await store.keys(prefix)
        assert is_avatar_key(second_key, account.id, ".webp")
        assert (await anon.get(f"/users/{account.id}/avatar.png")).status_code == 404
        image = await anon.get(f"/users/{account.id}/avatar.webp")
        assert (image.content, image.headers["content-type"]) == (files.WEBP, "image/webp")


async def test_object_missing_in_bucket_is_404(s3api: Any, store: Bucket) -> None:
    owner = await s3api.user()
    task = await s3api.task(owner)
    uploaded = await s3api.upload(owner, task["id"], "lost.txt", b"lost")
    (key,) = await store.keys(f"task_{task['id']}_")
    await store.s3.delete_object(Bucket=store.name, Key=key)
    response = await s3api.get(owner, f"/files/{uploaded['id']}")
    assert response.status_code == 404
    assert response.json() == {"detail": "File not found in storage"}


def is_avatar_key(key: str, user_id: int, extension: str) -> bool:
    """Each upload has a key of its own (#14 item 8)."""
    pattern = rf"avatars/user_{user_id}_avatar_[0-9a-f]{{32}}{re.escape(extension)}"
    return re.fullmatch(pattern, key) is not None


async def outbox_dry(app: Litestar) -> None:
    """Carry out every removal due now."""
    for _ in range(100):
        if await app.state.container.outbox.run_once() == 0:
            return
    raise AssertionError("the outbox did not run dry")


async def post_avatar(api: Any, who: Any, name: str, data: bytes, declared: str) -> None:
    response = await api.client.post(
        "/users/me/avatar", files={"file": (name, data, declared)}, headers=who.auth
    )
    assert response.status_code == 200, response.text


async def test_gif_png_gif_leaves_the_avatar_in_the_bucket(
    s3api: Any, s3_app: Litestar, store: Bucket, files: Any, kit: Any
) -> None:
    account = await s3api.user()
    last = files.GIF + b"\x00last"
    for name, data, declared in [
        ("a.gif", files.GIF, "image/gif"),
        ("b.png", files.PNG, "image/png"),
        ("c.gif", last, "image/gif"),
    ]:
        await post_avatar(s3api, account, name, data, declared)
    await outbox_dry(s3_app)
    (key,) = await store.keys(f"avatars/user_{account.id}_")
    assert is_avatar_key(key, account.id, ".gif")
    async with kit.new_client(s3_app) as anon:
        image = await anon.get(f"/users/{account.id}/avatar.gif")
    assert (image.status_code, image.content) == (200, last)


async def test_concurrent_avatar_uploads_leave_one_object_in_the_bucket(
    s3api: Any, s3_app: Litestar, store: Bucket, files: Any, kit: Any
) -> None:
    account = await s3api.user()
    kinds = [(".gif", files.GIF, "image/gif"), (".png", files.PNG, "image/png")]
    sent = [
        (f"{index}{ext}", data + b"\x00" + str(index).encode(), declared)
        for index, (ext, data, declared) in enumerate(kinds * 10)
    ]
    await asyncio.gather(*(post_avatar(s3api, account, *upload) for upload in sent))
    await outbox_dry(s3_app)
    url = (await s3api.get(account, "/users/me")).json()["avatar_url"]
    (key,) = await store.keys(f"avatars/user_{account.id}_")
    assert is_avatar_key(key, account.id, url.rsplit("/avatar", 1)[1])
    async with kit.new_client(s3_app) as anon:
        image = await anon.get(url)
    assert image.status_code == 200
    assert image.content in {data for _, data, _ in sent}
    assert await store.unfinished_uploads() == []

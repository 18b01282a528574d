"""FileService: attachment permissions, upload checks, deletion through the outbox, avatars."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from faros.adapters.localfs.storage import LocalBlobStorage
from faros.domain.errors import Invalid, NotFound, TaskAccessDenied, TaskNotFound
from faros.domain.files import MAX_UPLOAD_SIZE
from faros.domain.services.files import FileService

from .conftest import World

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


OCTETS = "application/octet-stream"  # what client libraries declare; the bytes decide


async def _stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


async def _read(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in stream])


@pytest.fixture
def storage(tmp_path: Path) -> LocalBlobStorage:
    return LocalBlobStorage(tmp_path)


@pytest.fixture
def files(world: World, storage: LocalBlobStorage) -> FileService:
    return FileService(world.uow, world.clock, storage)


async def test_an_editor_uploads_and_a_viewer_downloads(
    world: World, files: FileService, storage: LocalBlobStorage
) -> None:
    owner, editor, viewer = await world.user(), await world.user(), await world.user()
    task = await world.shared_task(owner, editor, "edit")
    await world.sharing.share(owner, task.id, viewer.username, "view")
    stored = await files.upload(editor, task.id, "notes.TXT", "text/plain", _stream(b"hi ", b"!"))
    assert (stored.original_filename, stored.file_size, stored.content_type) == (
        "notes.TXT",
        4,
        "text/plain",
    )
    assert stored.stored_filename.endswith(".txt")
    row, size, stream = await files.open(viewer, stored.id)
    assert (row, size, await _read(stream)) == (stored, 4, b"hi !")
    assert [f.id for f in await files.for_task(viewer, task.id)] == [stored.id]
    uploaded = (await world.timeline(task.id))[-1]
    assert (uploaded.action, uploaded.resource_type, uploaded.user_id) == (
        "uploaded",
        "file",
        editor.id,
    )
    with pytest.raises(TaskAccessDenied):
        await files.upload(viewer, task.id, "a.txt", None, _stream(b"x"))
    assert await storage.exists(stored.stored_filename)


async def test_uploads_are_checked_before_anything_is_kept(
    world: World, files: FileService, tmp_path: Path
) -> None:
    owner = await world.user()
    task = await world.task(owner)
    with pytest.raises(TaskNotFound):
        await files.upload(owner, 999_999, "a.exe", None, _stream(b"x"))
    with pytest.raises(Invalid, match=r"^File type \.exe not allowed"):
        await files.upload(owner, task.id, "a.exe", None, _stream(b"MZ"))
    with pytest.raises(Invalid, match=r"^File content does not match its type$"):
        await files.upload(owner, task.id, "photo.png", "image/png", _stream(b"not a png"))
    too_big = b"x" * (MAX_UPLOAD_SIZE + 1)
    with pytest.raises(Invalid, match=r"^File too large\. Max size: 10\.0 MB$"):
        await files.upload(owner, task.id, "big.txt", "text/plain", _stream(too_big))
    assert await files.for_task(owner, task.id) == []
    assert _files_under(tmp_path) == []


async def test_deleting_a_file_queues_the_blob_removal(world: World, files: FileService) -> None:
    owner, viewer = await world.user(), await world.user()
    task = await world.shared_task(owner, viewer, "view")
    stored = await files.upload(owner, task.id, "p.png", "image/png", _stream(PNG))
    with pytest.raises(TaskAccessDenied):
        await files.delete(viewer, stored.id)
    await files.delete(owner, stored.id)
    with pytest.raises(NotFound, match=rf"^File with ID {stored.id} not found$"):
        await files.open(owner, stored.id)
    assert [(m.kind, m.payload) for m in await world.outbox()] == [
        ("delete_blob", {"key": stored.stored_filename})
    ]
    assert (await world.timeline(task.id))[-1].action == "deleted"


def _avatar_keys(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in _files_under(root))


async def _carry_out_removals(world: World, storage: LocalBlobStorage) -> None:
    """What the outbox worker does with the queued `delete_blob` messages."""
    for message in await world.outbox():
        if message.kind == "delete_blob":
            await storage.delete(message.payload["key"])


async def test_a_new_avatar_replaces_the_old_one(
    world: World, files: FileService, tmp_path: Path
) -> None:
    user = await world.user()
    with pytest.raises(Invalid, match=r"^File must be an image$"):
        await files.upload_avatar(user, "me.png", OCTETS, _stream(b"not a picture"))
    first = await files.upload_avatar(user, "me.jpeg", OCTETS, _stream(b"\xff\xd8\xff\xe0"))
    assert first == f"/users/{user.id}/avatar.jpeg"
    (first_key,) = _avatar_keys(tmp_path)
    assert first_key.startswith(f"avatars/user_{user.id}_avatar_")
    assert first_key.endswith(".jpeg")
    second = await files.upload_avatar(user, "me.png", OCTETS, _stream(PNG))
    assert second == f"/users/{user.id}/avatar.png"
    assert [m.payload for m in await world.outbox()] == [{"key": first_key}]
    content_type, size, stream = await files.open_avatar(user.id, "avatar.png")
    assert (content_type, size, await _read(stream)) == ("image/png", len(PNG), PNG)
    with pytest.raises(NotFound):
        await files.open_avatar(user.id, "avatar.gif")
    with pytest.raises(NotFound):  # the old picture is not public, even before its removal
        await files.open_avatar(user.id, "avatar.jpeg")


async def test_a_queued_removal_never_hits_the_current_avatar(
    world: World, files: FileService, storage: LocalBlobStorage, tmp_path: Path
) -> None:
    """gif -> png -> gif: the first gif's removal used to delete the second one (#14 item 8)."""
    user = await world.user()
    gif = b"GIF89a" + b"\x00" * 16
    await files.upload_avatar(user, "a.gif", OCTETS, _stream(gif))
    await files.upload_avatar(user, "b.png", OCTETS, _stream(PNG))
    await files.upload_avatar(user, "c.gif", OCTETS, _stream(gif + b"new"))
    await _carry_out_removals(world, storage)
    content_type, _, stream = await files.open_avatar(user.id, "avatar.gif")
    assert (content_type, await _read(stream)) == ("image/gif", gif + b"new")
    assert len(_avatar_keys(tmp_path)) == 1


async def test_an_avatar_from_before_unique_keys_is_served_and_then_removed(
    world: World, files: FileService, storage: LocalBlobStorage, tmp_path: Path
) -> None:
    """Rows without a key (earlier versions, the original FAROS) name the fixed key."""
    user = await world.user()
    legacy = f"avatars/user_{user.id}_avatar.png"
    await storage.put(legacy, _stream(PNG), "image/png")
    async with world.uow() as uow:
        row = await uow.users.lock(user.id)
        assert row is not None
        row.avatar_url = f"/users/{user.id}/avatar.png"
        await uow.users.update(row)
        await uow.commit()
    _, _, stream = await files.open_avatar(user.id, "avatar.PNG")
    assert await _read(stream) == PNG
    await files.upload_avatar(user, "new.png", OCTETS, _stream(PNG + b"new"))
    assert [m.payload for m in await world.outbox()] == [{"key": legacy}]
    await _carry_out_removals(world, storage)
    (current,) = _avatar_keys(tmp_path)
    assert current != legacy
    _, _, stream = await files.open_avatar(user.id, "avatar.png")
    assert await _read(stream) == PNG + b"new"

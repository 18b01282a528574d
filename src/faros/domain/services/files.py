"""Attachments on tasks and user avatars, kept in blob storage."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from faros.domain import activity, outbox
from faros.domain.errors import AuthenticationFailed, Invalid, NotFound, ServiceUnavailable
from faros.domain.files import (
    ALLOWED_EXTENSIONS,
    AVATAR_EXTENSIONS,
    INVALID_CONTENT_TYPE,
    MAX_AVATAR_SIZE,
    MAX_UPLOAD_SIZE,
    PATH_SEPARATOR_REFUSAL,
    SNIFF_BYTES,
    MalformedType,
    NewStoredFile,
    StoredFile,
    allowed_extensions_text,
    attachment_key,
    avatar_content_type,
    avatar_key,
    avatar_url,
    avatar_url_extension,
    canonical_type,
    current_avatar_key,
    declared_essence,
    extension_of,
    is_plain_extension,
    name_problem,
    names_a_path,
    parse_avatar_segment,
    sniff_image,
)
from faros.domain.permissions import AccessLevel
from faros.domain.services.idempotency import IdempotentCall, claim_key, keep_answer
from faros.domain.services.task_access import load_task
from faros.domain.services.uploads import CONTENT_MISMATCH, checked_stream, peek
from faros.domain.services.webhook_events import WebhookEvents
from faros.domain.users import User
from faros.ports.blob_storage import BlobNotFound, BlobStorage, BlobStorageError
from faros.ports.clock import Clock
from faros.ports.unit_of_work import UnitOfWorkFactory

STORAGE_DOWN = "File storage is unavailable, please try again later"
NOT_AN_IMAGE = "File must be an image"


class FileService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        storage: BlobStorage,
        *,
        webhooks: WebhookEvents | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._storage = storage
        self._webhooks = webhooks

    async def _store(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> int:
        try:
            return await self._storage.put(key, chunks, content_type)
        except BlobStorageError as error:
            raise ServiceUnavailable(STORAGE_DOWN) from error

    async def _discard(self, key: str) -> None:
        # The row was never written, so nothing points at the object; if storage is down too,
        # the request has failed either way and the object is merely unreferenced.
        with contextlib.suppress(BlobStorageError):
            await self._storage.delete(key)

    async def upload(
        self,
        caller: User,
        task_id: int,
        filename: str,
        content_type: str | None,
        chunks: AsyncIterator[bytes],
        idempotency: IdempotentCall[StoredFile] | None = None,
    ) -> StoredFile:
        async with self._uow() as uow:
            await load_task(uow, task_id, caller.id, AccessLevel.EDIT)
        if names_a_path(filename):
            raise Invalid(PATH_SEPARATOR_REFUSAL)
        problem = name_problem(filename)
        if problem is not None:
            raise Invalid(problem)
        extension = extension_of(filename)
        if extension not in ALLOWED_EXTENSIONS:
            raise Invalid(
                f"File type {extension} not allowed. Allowed types: {allowed_extensions_text()}"
            )
        try:
            declared = declared_essence(content_type)
        except MalformedType as error:
            raise Invalid(INVALID_CONTENT_TYPE) from error
        chosen = canonical_type(extension)
        # Null stays null (§2.7: the part declared none); otherwise FAROS's type, not the client's.
        kept_type = None if declared is None else chosen
        key = attachment_key(task_id, extension)
        checked = checked_stream(chunks, MAX_UPLOAD_SIZE, extension, declared)
        size = await self._store(key, checked, chosen)
        now = self._clock.now()
        try:
            async with self._uow() as uow:
                # The stream was read whole: the fingerprint is complete. A replay discards the
                # bytes just stored, like any failure below.
                await claim_key(uow, caller.id, idempotency, now)
                # The task may have gone, or the caller lost access, while the bytes streamed.
                task, _ = await load_task(
                    uow, task_id, caller.id, AccessLevel.EDIT, for_update=True
                )
                stored = await uow.files.add(
                    NewStoredFile(task_id, filename, key, size, kept_type, now)
                )
                await uow.activity.add(activity.file_uploaded(caller.id, stored, now))
                if self._webhooks is not None:
                    await self._webhooks.file_uploaded(uow, task, stored, now)
                await keep_answer(uow, caller.id, idempotency, stored, now)
                await uow.commit()
        except BaseException:
            await self._discard(key)
            raise
        return stored

    async def for_task(self, caller: User, task_id: int) -> list[StoredFile]:
        async with self._uow() as uow:
            await load_task(uow, task_id, caller.id, AccessLevel.VIEW)
            return await uow.files.for_task(task_id)

    async def open(
        self, caller: User, file_id: int
    ) -> tuple[StoredFile, int, AsyncIterator[bytes]]:
        """The file's row, its stored size and a stream of its bytes."""
        async with self._uow() as uow:
            stored = await uow.files.get(file_id)
            if stored is None:
                raise NotFound(f"File with ID {file_id} not found")
            await load_task(uow, stored.task_id, caller.id, AccessLevel.VIEW)
        try:
            size = await self._storage.size(stored.stored_filename)
            stream = await self._storage.get(stored.stored_filename)
        except BlobNotFound as error:
            raise NotFound("File not found in storage") from error
        except BlobStorageError as error:
            raise ServiceUnavailable(STORAGE_DOWN) from error
        return stored, size, stream

    async def delete(self, caller: User, file_id: int) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            stored = await uow.files.get(file_id)
            if stored is None:
                raise NotFound(f"File with ID {file_id} not found")
            await load_task(uow, stored.task_id, caller.id, AccessLevel.EDIT)
            await uow.activity.add(activity.file_deleted(caller.id, stored, now))
            await uow.files.delete(file_id)
            await uow.outbox.add(outbox.delete_blob(stored.stored_filename), now)
            await uow.commit()

    async def upload_avatar(
        self, caller: User, filename: str, declared_type: str | None, chunks: AsyncIterator[bytes]
    ) -> str:
        """Store a new avatar. Its format is read from its bytes (#16), not from the part's
        declared type: client libraries declare whatever they guess (`application/octet-stream`
        most often). A part declaring no type at all is refused, as D20 says."""
        if not declared_type:
            raise Invalid(NOT_AN_IMAGE)
        problem = name_problem(filename)
        if problem is not None:
            raise Invalid(problem)
        named = extension_of(filename)
        if named and named not in AVATAR_EXTENSIONS:
            raise Invalid(f"Avatar must be one of: {', '.join(AVATAR_EXTENSIONS)}")
        head, chunks = await peek(chunks, SNIFF_BYTES)
        sniffed = sniff_image(head)
        if sniffed is None:
            raise Invalid(NOT_AN_IMAGE)
        # The public URL names the extension and is served as its type, so the two must agree.
        if named and canonical_type(named) != canonical_type(sniffed):
            raise Invalid(CONTENT_MISMATCH)
        extension = named or sniffed
        key = avatar_key(caller.id, extension)
        checked = checked_stream(chunks, MAX_AVATAR_SIZE, extension, None)
        await self._store(key, checked, canonical_type(extension))
        url = avatar_url(caller.id, extension)
        now = self._clock.now()
        committed = False
        try:
            async with self._uow() as uow:
                user = await uow.users.lock(caller.id)
                if user is None:
                    raise AuthenticationFailed("User not found")
                # The key is new, so the one replaced is referenced by nothing once this commits;
                # the row lock makes concurrent uploads queue each replaced key exactly once.
                previous = current_avatar_key(user)
                user.avatar_url = url
                user.avatar_key = key
                await uow.users.update(user)
                if previous is not None:
                    await uow.outbox.add(outbox.delete_blob(previous), now)
                await uow.commit()
                committed = True
        except BaseException:
            # Nothing points at the new object unless the transaction committed.
            if not committed:
                await self._discard(key)
            raise
        return url

    async def open_avatar(
        self, user_id: int, segment: str
    ) -> tuple[str, int, AsyncIterator[bytes]]:
        """Content type, size and bytes of `/users/{user_id}/avatar.<ext>`."""
        extension = parse_avatar_segment(segment)
        if extension is None:
            raise NotFound("Not Found")
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
        key = None if user is None else current_avatar_key(user)
        if user is None or key is None or not is_plain_extension(extension):
            raise NotFound("Avatar not found")
        # Only the current picture is public, under the extension its URL names.
        if "." + extension.lower() != avatar_url_extension(user.avatar_url or "").lower():
            raise NotFound("Avatar not found")
        try:
            size = await self._storage.size(key)
            stream = await self._storage.get(key)
        except BlobNotFound as error:
            raise NotFound("Avatar not found") from error
        except BlobStorageError as error:
            raise ServiceUnavailable(STORAGE_DOWN) from error
        return avatar_content_type(extension), size, stream

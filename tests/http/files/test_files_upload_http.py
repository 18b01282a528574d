"""Uploading, listing and downloading attachments on local disk (§3.6, §7, D19).

Each test checks the wire (status, body, headers) and what storage holds afterwards, so a
refused upload is seen to leave neither an object, a temporary file nor a database row.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

ALLOWED_TEXT = ".doc, .docx, .gif, .jpeg, .jpg, .pdf, .png, .txt"
# The type FAROS keeps and reports for each allowed extension, whatever the part declared.
KEPT_TYPES = {
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "gif": "image/gif",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "pdf": "application/pdf",
    "png": "image/png",
    "txt": "text/plain",
}


def refused_type(extension: str) -> dict[str, str]:
    return {"detail": f"File type {extension} not allowed. Allowed types: {ALLOWED_TEXT}"}


async def post_file(
    api: Any, who: Any, task_id: int, name: str, data: bytes, content_type: str | None
) -> httpx.Response:
    part = (name, data) if content_type is None else (name, data, content_type)
    response: httpx.Response = await api.client.post(
        f"/tasks/{task_id}/files", files={"file": part}, headers=who.auth
    )
    return response


async def file_activity(api: Any, who: Any, task_id: int) -> list[dict[str, Any]]:
    response = await api.get(who, f"/activity/tasks/{task_id}")
    assert response.status_code == 200, response.text
    return [e for e in response.json() if e["resource_type"] == "file"]


# --------------------------------------------------------------------------- shapes


async def test_upload_answers_file_uploaded_and_list_file_info(
    api: Any, files: Any, upload_root: Path
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    response = await post_file(api, owner, task["id"], "Scan Q1.PDF", files.PDF, "application/pdf")
    assert response.status_code == 201, response.text
    body = response.json()
    assert list(body) == [
        "id",
        "task_id",
        "original_filename",
        "file_size",
        "content_type",
        "uploaded_at",
    ]
    assert isinstance(body["id"], int)
    assert {k: v for k, v in body.items() if k not in ("id", "uploaded_at")} == {
        "task_id": task["id"],
        "original_filename": "Scan Q1.PDF",
        "file_size": len(files.PDF),
        "content_type": "application/pdf",
    }
    assert body["uploaded_at"].endswith("Z")
    datetime.fromisoformat(body["uploaded_at"].removesuffix("Z"))

    # The stored name is ours (§7.1), the extension lower-cased; nothing else was written.
    stored = files.task_objects(upload_root, task["id"])
    assert len(stored) == 1
    assert stored[0].startswith(f"task_{task['id']}_")
    assert stored[0].endswith(".pdf")
    assert (upload_root / stored[0]).read_bytes() == files.PDF

    second = await post_file(api, owner, task["id"], "b.txt", b"second", "text/plain")
    listed = await api.get(owner, f"/tasks/{task['id']}/files")
    assert listed.status_code == 200
    expected = [{k: v for k, v in item.items() if k != "task_id"} for item in (body, second.json())]
    assert listed.json() == expected
    assert [list(item) for item in listed.json()] == [
        ["id", "original_filename", "file_size", "content_type", "uploaded_at"]
    ] * 2

    activity = await file_activity(api, owner, task["id"])
    assert [(e["action"], e["resource_id"], e["details"]) for e in activity] == [
        (
            "uploaded",
            body["id"],
            {
                "task_id": task["id"],
                "filename": "Scan Q1.PDF",
                "file_size": len(files.PDF),
                "content_type": "application/pdf",
            },
        ),
        (
            "uploaded",
            second.json()["id"],
            {
                "task_id": task["id"],
                "filename": "b.txt",
                "file_size": 6,
                "content_type": "text/plain",
            },
        ),
    ]


async def test_download_headers(api: Any, files: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    uploaded = (await post_file(api, owner, task["id"], "photo.png", files.PNG, "image/png")).json()
    response = await api.get(owner, f"/files/{uploaded['id']}")
    assert response.status_code == 200
    assert response.content == files.PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == 'attachment; filename="photo.png"'
    assert response.headers["content-length"] == str(len(files.PNG))
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_text_is_served_as_utf8(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    uploaded = await api.upload(owner, task["id"], "notes.txt", "naïve".encode())
    download = await api.get(owner, f"/files/{uploaded['id']}")
    assert download.headers["content-type"] == "text/plain; charset=utf-8"
    assert download.text == "naïve"


async def test_part_without_content_type_is_stored_as_null_and_served_as_octet_stream(
    api: Any, files: Any
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    body, headers = files.raw_multipart(
        'form-data; name="file"; filename="notes.txt"', b"plain words", content_type=None
    )
    response = await api.client.post(
        f"/tasks/{task['id']}/files", content=body, headers={**headers, **owner.auth}
    )
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] is None
    download = await api.get(owner, f"/files/{response.json()['id']}")
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.content == b"plain words"


async def test_declared_type_is_not_kept_verbatim(api: Any, files: Any) -> None:
    """FAROS keeps the type it chose for the extension (#14 item 7), see the metadata suite."""
    owner = await api.user()
    task = await api.task(owner)
    response = await post_file(
        api, owner, task["id"], "a.txt", b"hello", "text/plain; charset=utf-8"
    )
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == "text/plain"
    download = await api.get(owner, f"/files/{response.json()['id']}")
    assert download.headers["content-type"] == "text/plain; charset=utf-8"


# --------------------------------------------------------------------------- extensions


@pytest.mark.parametrize(
    ("name", "data_name", "content_type"),
    [
        ("report.pdf", "PDF", "application/pdf"),
        ("REPORT.PDF", "PDF", "application/pdf"),
        ("image.png", "PNG", "image/png"),
        ("image.jpg", "JPEG", "image/jpeg"),
        ("image.JPEG", "JPEG", "image/jpeg"),
        ("anim.gif", "GIF", "image/gif"),
        ("letter.doc", "DOC", "application/msword"),
        (
            "letter.docx",
            "DOCX",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("archive.tar.txt", None, "text/plain"),
        ("unknown-type.png", "PNG", "application/octet-stream"),
        ("old-browser.jpg", "JPEG", "image/pjpeg"),
        ("table.txt", None, "text/csv"),
    ],
)
async def test_allowed_extensions(
    api: Any, files: Any, name: str, data_name: str | None, content_type: str
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    data = getattr(files, data_name) if data_name else "plain text, ünïcödé".encode()
    response = await post_file(api, owner, task["id"], name, data, content_type)
    assert response.status_code == 201, response.text
    assert (response.json()["original_filename"], response.json()["content_type"]) == (
        name,
        KEPT_TYPES[name.rsplit(".", 1)[1].lower()],
    )
    download = await api.get(owner, f"/files/{response.json()['id']}")
    assert download.content == data


@pytest.mark.parametrize(
    ("name", "extension"),
    [
        ("tool.EXE", ".exe"),
        ("page.html", ".html"),
        ("drawing.svg", ".svg"),
        ("backup.txt.gz", ".gz"),
        ("README", ""),
        (".txt", ""),
        ("trailing.", ""),
    ],
)
async def test_refused_extensions(
    api: Any, files: Any, upload_root: Path, name: str, extension: str
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    response = await post_file(api, owner, task["id"], name, b"anything", "text/plain")
    assert response.status_code == 400
    assert response.json() == refused_type(extension)
    assert files.task_objects(upload_root, task["id"]) == []
    assert (await api.get(owner, f"/tasks/{task['id']}/files")).json() == []


@pytest.mark.parametrize(
    ("name", "data_name", "content_type"),
    [
        ("fake.png", None, "image/png"),  # text pretending to be an image
        ("fake.png", None, "application/octet-stream"),
        ("fake.pdf", "PNG", "application/pdf"),
        ("binary.txt", "PNG", "text/plain"),  # NUL bytes are not text
        ("photo.jpg", "JPEG", "image/png"),  # right bytes, contradicting declared type
        ("photo.png", "PNG", "text/plain"),
        ("letter.docx", "DOC", "application/octet-stream"),
        # Types a browser would run are never declared for the allowed extensions.
        ("page.txt", None, "text/html"),
        ("page.txt", None, "application/xhtml+xml"),
        ("drawing.png", "PNG", "image/svg+xml"),
        ("report.pdf", "PDF", "text/csv"),  # another family than the bytes
        ("report.pdf", "PDF", "image/pjpeg"),
    ],
)
async def test_content_that_lies_is_refused(
    api: Any, files: Any, upload_root: Path, name: str, data_name: str | None, content_type: str
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    text = b"<script>alert(1)</script> " * 40
    data = getattr(files, data_name) if data_name else text
    if name == "page.txt":
        # Valid UTF-8 text, so only the declared type is wrong.
        data = b"<html><body onload=alert(1)>hi</body></html>"
    response = await post_file(api, owner, task["id"], name, data, content_type)
    assert response.status_code == 400
    assert response.json() == {"detail": "File content does not match its type"}
    assert files.task_objects(upload_root, task["id"]) == []
    assert files.leftovers(upload_root) == []
    assert await file_activity(api, owner, task["id"]) == []


async def test_sniffing_looks_past_a_tiny_first_chunk(api: Any, files: Any) -> None:
    """The head may arrive in pieces smaller than the sniffed prefix."""
    owner = await api.user()
    task = await api.task(owner)
    body = files.CountingBody("b0undary-sniff", "fake.png", 2000, "image/png", chunk=7)
    response = await api.client.post(
        f"/tasks/{task['id']}/files", content=body, headers={**body.headers, **owner.auth}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "File content does not match its type"}


# --------------------------------------------------------------------------- sizes


async def test_empty_file_is_accepted(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    for name in ("empty.txt", "empty.png", "empty.pdf"):
        response = await post_file(api, owner, task["id"], name, b"", "application/octet-stream")
        assert response.status_code == 201, response.text
        assert response.json()["file_size"] == 0
        download = await api.get(owner, f"/files/{response.json()['id']}")
        assert download.status_code == 200
        assert download.content == b""
        assert download.headers["content-length"] == "0"


@pytest.mark.slow
async def test_exactly_ten_mib_accepted_one_more_byte_refused(
    api: Any, files: Any, upload_root: Path
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    exact = files.png_of_size(files.LIMIT)
    accepted = await post_file(api, owner, task["id"], "big.png", exact, "image/png")
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["file_size"] == files.LIMIT
    download = await api.get(owner, f"/files/{accepted.json()['id']}")
    assert download.headers["content-length"] == str(files.LIMIT)
    assert download.content == exact

    over = await post_file(api, owner, task["id"], "big.png", exact + b"\x00", "image/png")
    assert over.status_code == 400
    assert over.json() == {"detail": "File too large. Max size: 10.0 MB"}
    # Only the accepted file is stored; the refused write left no temporary file either.
    assert len(files.task_objects(upload_root, task["id"])) == 1
    assert files.leftovers(upload_root) == []
    assert [
        f["file_size"] for f in (await api.get(owner, f"/tasks/{task['id']}/files")).json()
    ] == [files.LIMIT]


async def test_a_few_mib_of_binary_round_trip_byte_exact(api: Any, files: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    # Every byte value, CRLFs and dashes included, which a multipart parser must not mistake
    # for a boundary; the PDF signature makes it pass the sniffer.
    data = b"%PDF-1.7\r\n--\r\n" + files.binary(3 * files.MIB + 12345)
    response = await post_file(api, owner, task["id"], "dump.pdf", data, "application/pdf")
    assert response.status_code == 201, response.text
    assert response.json()["file_size"] == len(data)
    download = await api.get(owner, f"/files/{response.json()['id']}")
    assert download.status_code == 200
    assert download.headers["content-length"] == str(len(data))
    assert download.content == data


# --------------------------------------------------------------------------- 422 and 404


async def test_missing_file_part_and_plain_field(api: Any, files: Any) -> None:
    owner = await api.user()
    task = await api.task(owner)
    path = f"/tasks/{task['id']}/files"
    missing = await api.client.post(
        path, files={"document": ("a.txt", b"x", "text/plain")}, headers=owner.auth
    )
    assert missing.status_code == 422
    assert missing.json() == {
        "detail": "file: Field required",
        "errors": [
            {"type": "missing", "loc": ["body", "file"], "msg": "Field required", "input": None}
        ],
    }
    plain = await api.client.post(
        path, data={"file": "just text"}, files={"x": ("a.txt", b"x")}, headers=owner.auth
    )
    assert plain.status_code == 422
    assert plain.json()["errors"] == [
        {
            "type": "value_error",
            "loc": ["body", "file"],
            "msg": "Value error, Expected UploadFile, received: <class 'str'>",
            "input": None,
            "ctx": {"error": {}},
        }
    ]
    assert isinstance(plain.json()["detail"], str)
    for not_multipart in (
        await api.client.post(path, json={"file": "x"}, headers=owner.auth),
        await api.client.post(path, headers=owner.auth),
    ):
        assert not_multipart.status_code == 422
        assert not_multipart.json()["errors"][0]["loc"] == ["body", "file"]
    assert (await api.get(owner, path)).json() == []


async def test_missing_file_is_404(api: Any) -> None:
    owner = await api.user()
    response = await api.get(owner, "/files/2147483001")
    assert response.status_code == 404
    assert response.json() == {"detail": "File with ID 2147483001 not found"}
    deleted = await api.client.delete("/files/2147483001", headers=owner.auth)
    assert deleted.status_code == 404
    assert deleted.json() == {"detail": "File with ID 2147483001 not found"}


async def test_missing_task_is_family_a_404(api: Any, kit: Any) -> None:
    owner = await api.user()
    listed = await api.get(owner, "/tasks/2147483002/files")
    assert listed.status_code == 404
    assert listed.json() == kit.not_found(2147483002)


async def test_object_missing_in_storage_is_404(api: Any, files: Any, upload_root: Path) -> None:
    owner = await api.user()
    task = await api.task(owner)
    uploaded = await api.upload(owner, task["id"], "gone.txt", b"soon gone")
    (stored,) = files.task_objects(upload_root, task["id"])
    (upload_root / stored).unlink()
    response = await api.get(owner, f"/files/{uploaded['id']}")
    assert response.status_code == 404
    assert response.json() == {"detail": "File not found in storage"}


# --------------------------------------------------------------------------- who may do what


async def test_permissions(
    api: Any, anon: httpx.AsyncClient, kit: Any, upload_root: Path, files: Any, container: Any
) -> None:
    owner, editor, viewer, stranger = [await api.user(p) for p in ("own", "edt", "vwr", "str")]
    task = await api.task(owner)
    await api.share(owner, task["id"], editor, "edit")
    await api.share(owner, task["id"], viewer, "view")
    path = f"/tasks/{task['id']}/files"
    kept = await api.upload(owner, task["id"], "kept.txt", b"owner's file")

    # An edit-sharer uploads and deletes.
    by_editor = await api.upload(editor, task["id"], "editor.txt", b"editor's file")
    assert (
        await api.client.delete(f"/files/{by_editor['id']}", headers=editor.auth)
    ).status_code == 204

    # A viewer lists and downloads, but neither uploads nor deletes.
    assert [f["id"] for f in (await api.get(viewer, path)).json()] == [kept["id"]]
    download = await api.get(viewer, f"/files/{kept['id']}")
    assert (download.status_code, download.content) == (200, b"owner's file")
    for refused in (
        await post_file(api, viewer, task["id"], "v.txt", b"v", "text/plain"),
        await api.client.delete(f"/files/{kept['id']}", headers=viewer.auth),
    ):
        assert refused.status_code == 403
        assert refused.json() == kit.forbidden

    # A stranger gets 403 everywhere (existence is not hidden, §1.8).
    for refused in (
        await api.get(stranger, path),
        await api.get(stranger, f"/files/{kept['id']}"),
        await post_file(api, stranger, task["id"], "s.txt", b"s", "text/plain"),
        await api.client.delete(f"/files/{kept['id']}", headers=stranger.auth),
    ):
        assert refused.status_code == 403
        assert refused.json() == kit.forbidden

    # Without credentials: 401 before anything else.
    for unauthenticated in (
        await anon.get(path),
        await anon.get(f"/files/{kept['id']}"),
        await anon.post(path, files={"file": ("a.txt", b"a", "text/plain")}),
        await anon.delete(f"/files/{kept['id']}"),
    ):
        assert unauthenticated.status_code == 401
        assert unauthenticated.json() == kit.not_authenticated

    # The owner's file survived every refused attempt, in the database and in storage.
    assert [f["id"] for f in (await api.get(owner, path)).json()] == [kept["id"]]
    await files.drain_outbox(
        container, lambda: len(files.task_objects(upload_root, task["id"])) == 1
    )
    stored = files.task_objects(upload_root, task["id"])
    assert (upload_root / stored[0]).read_bytes() == b"owner's file"


async def test_losing_access_after_upload(api: Any, kit: Any) -> None:
    owner = await api.user()
    editor = await api.user()
    task = await api.task(owner)
    await api.share(owner, task["id"], editor, "edit")
    uploaded = await api.upload(editor, task["id"], "mine.txt", b"mine")
    await api.unshare(owner, task["id"], editor)
    response = await api.get(editor, f"/files/{uploaded['id']}")
    assert response.status_code == 403
    assert response.json() == kit.forbidden


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "disposition"),
    [
        ("notes.txt", 'attachment; filename="notes.txt"'),
        ("Report Q1.TXT", 'attachment; filename="Report Q1.TXT"'),
        ("résumé.txt", "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt"),
        (
            "日本語 ファイル.txt",
            "attachment; filename*=utf-8''"
            "%E6%97%A5%E6%9C%AC%E8%AA%9E%20%E3%83%95%E3%82%A1%E3%82%A4%E3%83%AB.txt",
        ),
        ("100% done.txt", "attachment; filename*=utf-8''100%25%20done.txt"),
        ("semi;colon,comma.txt", 'attachment; filename="semi;colon,comma.txt"'),
    ],
)
async def test_filenames(
    api: Any, files: Any, upload_root: Path, name: str, disposition: str
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    uploaded = await api.upload(owner, task["id"], name, b"content")
    assert uploaded["original_filename"] == name
    (stored,) = files.task_objects(upload_root, task["id"])
    assert stored.endswith(".txt")
    assert "/" not in stored
    assert ".." not in stored
    download = await api.get(owner, f"/files/{uploaded['id']}")
    assert download.headers["content-disposition"] == disposition
    assert download.content == b"content"


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.txt", "..\\..\\boot.txt", "/abs/x.txt", "dir/x.txt"]
)
async def test_filenames_naming_a_path_are_refused(api: Any, name: str) -> None:
    owner = await api.user()
    task = await api.task(owner)
    response = await api.client.post(
        f"/tasks/{task['id']}/files",
        files={"file": (name, b"content", "text/plain")},
        headers=owner.auth,
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "File name must not contain path separators ('/' or '\\')"}
    listed = await api.get(owner, f"/tasks/{task['id']}/files")
    assert listed.json() == []


async def test_windows_style_full_paths_keep_only_the_base_name(api: Any) -> None:
    """Old IE sent `C:\\dir\\name`; the multipart parser keeps the base name, as IE meant."""
    owner = await api.user()
    task = await api.task(owner)
    uploaded = await api.upload(owner, task["id"], "C:\\temp\\x.txt", b"content")
    assert uploaded["original_filename"] == "x.txt"


@pytest.mark.parametrize(
    ("raw_name", "name", "disposition"),
    [
        # Quotes arrive backslash-escaped in the part header (RFC 7578 leaves the form open).
        ('say \\"hi\\".txt', 'say "hi".txt', "attachment; filename*=utf-8''say%20%22hi%22.txt"),
        ("tab\there.txt", "tab\there.txt", "attachment; filename*=utf-8''tab%09here.txt"),
    ],
)
async def test_filenames_written_by_hand(
    api: Any, files: Any, raw_name: str, name: str, disposition: str
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    body, headers = files.raw_multipart(f'form-data; name="file"; filename="{raw_name}"', b"x")
    response = await api.client.post(
        f"/tasks/{task['id']}/files", content=body, headers={**headers, **owner.auth}
    )
    assert response.status_code == 201, response.text
    assert response.json()["original_filename"] == name
    download = await api.get(owner, f"/files/{response.json()['id']}")
    assert download.headers["content-disposition"] == disposition


async def test_newlines_and_quotes_as_browsers_send_them(api: Any) -> None:
    """Browsers (and httpx) percent-encode `"`, CR and LF in the part header (HTML5): the name
    arrives with `%22` / `%0A` in it, is stored as such, and its `%` forces `filename*`."""
    owner = await api.user()
    task = await api.task(owner)
    uploaded = await api.upload(owner, task["id"], 'line\r\nbreak "q".txt', b"x")
    assert uploaded["original_filename"] == "line%0D%0Abreak %22q%22.txt"
    download = await api.get(owner, f"/files/{uploaded['id']}")
    header = download.headers["content-disposition"]
    assert header == "attachment; filename*=utf-8''line%250D%250Abreak%20%2522q%2522.txt"
    assert not set(header) & set('\r\n"')


# --------------------------------------------------------------------------- framing

PART_HEAD = (
    b'--bnd\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n"
)


@pytest.mark.parametrize(
    ("tail", "status"),
    [
        (b"hello", 422),  # the body stops inside the file part
        (b"hello\r\n--bnd", 422),  # ... or right at an unfinished delimiter
        (b"hello\r\n--bnd--\r\n", 201),
        (b"hello\r\n--bnd--", 201),  # no CRLF after the close delimiter: fine
    ],
)
async def test_a_truncated_file_part_is_not_stored(
    api: Any, files: Any, upload_root: Path, tail: bytes, status: int
) -> None:
    owner = await api.user()
    task = await api.task(owner)
    response = await api.client.post(
        f"/tasks/{task['id']}/files",
        content=PART_HEAD + tail,
        headers={**owner.auth, "Content-Type": "multipart/form-data; boundary=bnd"},
    )
    assert response.status_code == status, response.text
    listed = (await api.get(owner, f"/tasks/{task['id']}/files")).json()
    if status == 422:
        assert response.json()["errors"] == [
            {
                "type": "value_error",
                "loc": ["body"],
                "msg": "Value error, Malformed multipart/form-data body",
                "input": None,
                "ctx": {"error": {}},
            }
        ]
        assert listed == []
        assert files.task_objects(upload_root, task["id"]) == []
        assert files.leftovers(upload_root) == []
    else:
        assert [f["file_size"] for f in listed] == [5]

"""Upload rules: extensions, content sniffing, client names and declared types."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from faros.domain.files import (
    CONTROL_IN_NAME,
    NAME_TOO_LONG,
    MalformedType,
    StoredFile,
    content_matches,
    declared_essence,
    extension_of,
    name_problem,
    served_type,
    sniff_image,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 20
PDF = b"%PDF-1.7\n"
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 "


@pytest.mark.parametrize(
    ("filename", "extension"),
    [
        ("report.PDF", ".pdf"),
        ("archive.tar.gz", ".gz"),
        ("noext", ""),
        (".txt", ""),  # a dot-file has no suffix
        ("trailing.", ""),
        ("C:\\Users\\me\\photo.JPG", ".jpg"),
        ("dir/sub/notes.txt", ".txt"),
    ],
)
def test_extension_of(filename: str, extension: str) -> None:
    assert extension_of(filename) == extension


@pytest.mark.parametrize(
    ("extension", "declared", "head", "fits"),
    [
        (".png", "image/png", PNG, True),
        (".png", "application/octet-stream", PNG, True),  # a generic declaration is fine
        (".png", None, PNG, True),
        (".png", "IMAGE/PNG; charset=binary", PNG, True),
        (".png", "image/jpeg", PNG, False),  # declared as another family
        (".jpg", "image/jpeg", PNG, False),  # bytes of another format
        (".jpeg", "image/jpeg", JPEG, True),
        (".pdf", "application/pdf", PDF, True),
        (".pdf", "text/plain", PDF, False),
        (".webp", "image/webp", WEBP, True),
        (".webp", None, b"RIFF\x00\x00\x00\x00WAVEfmt ", False),
        (".gif", None, b"GIF89a...", True),
        (".gif", None, b"GIF90a...", False),
        (".txt", "text/plain", "héllo wörld".encode(), True),
        (".txt", None, "é".encode()[:1], True),  # a character cut at the sample's end
        (".txt", None, b"\xff\xfe bad", False),
        (".txt", None, b"text\x00with nul", False),
        (".exe", None, b"MZ", False),  # nothing known about it
        (".png", "image/jpeg", b"", True),  # nothing to judge yet
    ],
)
def test_content_matches(extension: str, declared: str | None, head: bytes, fits: bool) -> None:
    assert content_matches(extension, declared, head) is fits


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("notes.txt", None),
        ("tab\there.txt", None),  # a tab is harmless, and real names carry them
        ("日本語 ファイル.txt", None),
        ("x" * 251 + ".txt", None),
        ("x" * 252 + ".txt", NAME_TOO_LONG),
        ("nul\x00.txt", CONTROL_IN_NAME),
        ("line\nbreak.txt", CONTROL_IN_NAME),
        ("cr\r.txt", CONTROL_IN_NAME),
        ("del\x7f.txt", CONTROL_IN_NAME),
        ("c1\x9b.txt", CONTROL_IN_NAME),
        ("\x00" * 300, CONTROL_IN_NAME),
    ],
)
def test_name_problem(name: str, problem: str | None) -> None:
    assert name_problem(name) == problem


@pytest.mark.parametrize(
    ("declared", "essence"),
    [
        (None, None),
        ("text/plain", "text/plain"),
        ("Text/Plain", "text/plain"),
        ("text/plain; charset=utf-8", "text/plain"),
        ("text/plain ;charset=utf-8 ; format=flowed", "text/plain"),
        ('text/plain; charset="utf-8"', "text/plain"),
        ('text/plain; name="a \\"b\\" c"', "text/plain"),
        ("text/plain;", "text/plain"),
        ("Application/VND.ms-Word", "application/vnd.ms-word"),
    ],
)
def test_declared_essence(declared: str | None, essence: str | None) -> None:
    assert declared_essence(declared) == essence


@pytest.mark.parametrize(
    "declared",
    [
        "",
        "text/plain,text/html",
        "text/plain, text/html",
        "text/html;text/plain",
        "text/plain\x00",
        "text/plain\r\nX-Injected: 1",
        "text",
        "text/",
        "text/plain/html",
        'text/plain; charset="utf-8',
        "text/plain; charset=a b",
        "tëxt/plain",
        "text/plain" + " " * 10_000 + "x",
    ],
)
def test_declared_essence_refuses_what_is_not_one_media_type(declared: str) -> None:
    with pytest.raises(MalformedType):
        declared_essence(declared)


def _stored(key: str, content_type: str | None) -> StoredFile:
    return StoredFile(1, 1, "name", key, 0, content_type, datetime(2030, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("key", "content_type", "served"),
    [
        ("task_1_x.txt", "text/plain", "text/plain; charset=utf-8"),
        ("task_1_x.txt", "text/plain,text/html", "text/plain; charset=utf-8"),
        ("task_1_x.txt", "text/html", "text/plain; charset=utf-8"),
        ("task_1_x.png", "image/svg+xml", "image/png"),
        ("task_1_x.jpeg", "image/pjpeg", "image/jpeg"),
        ("task_1_x.pdf", "application/pdf", "application/pdf"),
        ("task_1_x.txt", None, "application/octet-stream"),  # §7.2: no type stored
        ("task_1_x.svg", "image/svg+xml", "application/octet-stream"),  # not ours to serve
    ],
)
def test_served_type_comes_from_the_stored_extension(
    key: str, content_type: str | None, served: str
) -> None:
    assert served_type(_stored(key, content_type)) == served


@pytest.mark.parametrize(
    ("head", "format_"),
    [
        (PNG, ".png"),
        (JPEG, ".jpg"),
        (b"GIF87a\x01\x00", ".gif"),
        (b"GIF89a\x01\x00", ".gif"),
        (WEBP, ".webp"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),  # RIFF, but audio
        (PDF, None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"\x89PNG", None),  # a cut signature
        (b"", None),
    ],
)
def test_sniff_image_reads_the_format_from_the_bytes(head: bytes, format_: str | None) -> None:
    assert sniff_image(head) == format_

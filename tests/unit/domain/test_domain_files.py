"""Upload rules: extensions and content sniffing."""

from __future__ import annotations

import pytest

from faros.domain.files import content_matches, extension_of

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

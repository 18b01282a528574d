"""Task attachments and avatars: what may be stored, and under which name."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from faros.domain.users import User

ALLOWED_EXTENSIONS: tuple[str, ...] = (
    ".doc",
    ".docx",
    ".gif",
    ".jpeg",
    ".jpg",
    ".pdf",
    ".png",
    ".txt",
)
MAX_UPLOAD_SIZE = 10 * 1024 * 1024
AVATAR_EXTENSIONS: tuple[str, ...] = (".gif", ".jpeg", ".jpg", ".png", ".webp")
MAX_AVATAR_SIZE = 5 * 1024 * 1024
AVATAR_CONTENT_TYPES: dict[str, str] = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
}

# Magic numbers of the formats we accept. Text has none; it is checked separately.
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".pdf": (b"%PDF-",),
    ".doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    ".docx": (b"PK\x03\x04",),
}
_WEBP_RIFF = b"RIFF"
SNIFF_BYTES = 512
# A declared type naming a family the bytes do not belong to is refused; generic or missing
# declarations are fine because browsers send application/octet-stream for unknown types.
_DECLARED_FAMILIES: dict[str, tuple[str, ...]] = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/pdf": (".pdf",),
    "text/plain": (".txt",),
}
_IMAGE_FILES = (".gif", ".jpeg", ".jpg", ".png", ".webp")
# What FAROS keeps and serves for a file it accepted: the bytes were sniffed against the
# extension, so the extension names the type; the client's string is never kept (#14).
CANONICAL_TYPES: dict[str, str] = {
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".gif": "image/gif",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".txt": "text/plain",
    ".webp": "image/webp",
}
_UNKNOWN_TYPE = "application/octet-stream"
AVATAR_TYPES: tuple[str, ...] = ("image/png", "image/jpeg", "image/gif", "image/webp")
"""What an avatar is served as: the four formats `sniff_image` recognises."""
ATTACHMENT_TYPES: tuple[str, ...] = (
    _UNKNOWN_TYPE,
    *sorted({CANONICAL_TYPES[extension] for extension in ALLOWED_EXTENSIONS}),
)
"""What a download is served as (`served_type`): a file's canonical type, or octet-stream for
one uploaded without a declared type."""
# Types a browser would run as a page or script are never what a browser declares for the
# allowed extensions, so they can only be a lie.
_ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
        "application/ecmascript",
        "text/ecmascript",
    }
)


@dataclass(slots=True)
class StoredFile:
    id: int
    task_id: int
    original_filename: str
    stored_filename: str
    file_size: int
    content_type: str | None
    uploaded_at: datetime


@dataclass(slots=True, frozen=True)
class NewStoredFile:
    task_id: int
    original_filename: str
    stored_filename: str
    file_size: int
    content_type: str | None
    uploaded_at: datetime


PATH_SEPARATOR_REFUSAL = "File name must not contain path separators ('/' or '\\')"
# The name is kept verbatim (§2.7) in a 255-character column; a real file's name fits, since
# file systems cap names at 255 bytes or UTF-16 units. Longer is refused, not cut: a shortened
# name would no longer be the client's.
MAX_FILENAME_LENGTH = 255
CONTROL_IN_NAME = "File name must not contain control characters"
NAME_TOO_LONG = f"File name too long. Max length: {MAX_FILENAME_LENGTH} characters"
INVALID_CONTENT_TYPE = "Invalid file content type"
# C0 but tab, DEL and C1: PostgreSQL cannot store NUL, and the rest corrupt logs and headers.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
# One media type as RFC 9110 §8.3.1 writes it: `type/subtype` and `; name=value` parameters.
# A list (`text/plain,text/html`, which browsers read as its last member) or a control
# character does not match.
_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[\t !#-\[\]-~]|\\[\t -~])*"'
_MEDIA_TYPE = re.compile(
    rf"({_TCHARS}/{_TCHARS})(?:[ \t]*;[ \t]*(?:{_TCHARS}=(?:{_TCHARS}|{_QUOTED}))?)*[ \t]*"
)


def names_a_path(filename: str) -> bool:
    """Browsers send a bare file name; a separator means a path, which we refuse to store."""
    return "/" in filename or "\\" in filename


def name_problem(filename: str) -> str | None:
    """Why a client's file name cannot be kept and served back, or None when it can."""
    if _CONTROL.search(filename):
        return CONTROL_IN_NAME
    if len(filename) > MAX_FILENAME_LENGTH:
        return NAME_TOO_LONG
    return None


class MalformedType(ValueError):
    """A declared content type that is not one media type."""


def declared_essence(declared: str | None) -> str | None:
    """`Text/Plain; charset=x` -> `text/plain`; None when nothing was declared.

    Raises MalformedType for anything that is not a single media type.
    """
    if declared is None:
        return None
    match = _MEDIA_TYPE.fullmatch(declared)
    if match is None:
        raise MalformedType(declared)
    return match.group(1).lower()


def canonical_type(extension: str) -> str:
    """The one type FAROS stores and serves for a file with this extension."""
    return CANONICAL_TYPES.get(extension.lower(), _UNKNOWN_TYPE)


def served_type(stored: StoredFile) -> str:
    """The download's Content-Type, from the stored key's extension: rows of earlier versions
    hold the client's string, which is not trusted on the way out. A row without a type (the
    part declared none, §7.2) is sent as octet-stream; text as UTF-8, which the upload checked.
    """
    if stored.content_type is None:
        return _UNKNOWN_TYPE
    chosen = canonical_type(extension_of(stored.stored_filename))
    return f"{chosen}; charset=utf-8" if chosen.startswith("text/") else chosen


def extension_of(filename: str) -> str:
    """The last suffix, lower-cased, with its dot; empty when there is none (`.txt` has none)."""
    return PurePosixPath(filename.replace("\\", "/")).suffix.lower()


def allowed_extensions_text() -> str:
    return ", ".join(ALLOWED_EXTENSIONS)


def validate_storage_key(key: str) -> str:
    """Refuse keys that could name something outside the store, whatever backend holds it.

    The key builders below only make safe keys; every `BlobStorage` adapter checks again (defence
    in depth), so a key is valid or not regardless of where it is stored.
    """
    if not key or "\x00" in key or "\\" in key or key.startswith("/"):
        raise ValueError(f"Invalid storage key: {key!r}")
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        raise ValueError(f"Invalid storage key: {key!r}")
    return key


def attachment_key(task_id: int, extension: str) -> str:
    """Stored names never derive from user input beyond an allow-listed extension."""
    return f"task_{task_id}_{uuid.uuid4()}{extension}"


def avatar_key(user_id: int, extension: str) -> str:
    """A new key for every upload: a queued removal of the picture it replaces can never hit
    it, even when both share an extension (#14). The public URL stays `avatar<ext>`."""
    return f"avatars/user_{user_id}_avatar_{uuid.uuid4().hex}{extension}"


def avatar_url_extension(url: str) -> str:
    """`/users/7/avatar.png` -> `.png`."""
    return url.rsplit("/avatar", 1)[-1]


def current_avatar_key(user: User) -> str | None:
    """Where the user's avatar is stored. Rows written before keys were unique (or copied from
    the original FAROS) have no key: theirs is the fixed `avatars/user_<id>_avatar<ext>`."""
    if not user.avatar_url:
        return None
    if user.avatar_key:
        return user.avatar_key
    return f"avatars/user_{user.id}_avatar{avatar_url_extension(user.avatar_url)}"


def avatar_url(user_id: int, extension: str) -> str:
    return f"/users/{user_id}/avatar{extension}"


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # The sample may cut a multi-byte character in half; only that is forgiven.
        return error.start >= len(head) - 3 and error.reason == "unexpected end of data"
    return True


def content_matches(extension: str, declared_type: str | None, head: bytes) -> bool:
    """Whether the first bytes of an upload fit its extension and its declared type."""
    if not head:
        return True
    if extension == ".txt":
        fits = _looks_like_text(head)
    elif extension == ".webp":
        fits = head.startswith(_WEBP_RIFF) and head[8:12] == b"WEBP"
    else:
        fits = any(head.startswith(sig) for sig in _SIGNATURES.get(extension, ()))
    if not fits:
        return False
    return declared_fits(extension, declared_type)


def declared_fits(extension: str, declared_type: str | None) -> bool:
    """Whether a declared type can describe a file with this extension (unknown ones can)."""
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared in _ACTIVE_TYPES:
        return False
    family = _DECLARED_FAMILIES.get(declared)
    if family is not None:
        return extension in family
    # Unlisted members of a family (image/pjpeg, text/csv) still name what the bytes are.
    if declared.startswith("image/"):
        return extension in _IMAGE_FILES
    if declared.startswith("text/"):
        return extension == ".txt"
    return True


def sniff_image(head: bytes) -> str | None:
    """The extension of the avatar format `head` begins (`.png`, `.jpg`, `.gif`, `.webp`), or
    None when it is none of them. An avatar's type is its bytes' (#16): the part's declared
    type is whatever the client library guessed, often `application/octet-stream`."""
    if head.startswith(_WEBP_RIFF) and head[8:12] == b"WEBP":
        return ".webp"
    for extension in (".png", ".jpg", ".gif"):
        if head.startswith(_SIGNATURES[extension]):
            return extension
    return None


def parse_avatar_segment(segment: str) -> str | None:
    """`avatar.png` -> `png`; anything not of that form -> None."""
    prefix = "avatar."
    if not segment.startswith(prefix) or len(segment) == len(prefix):
        return None
    return segment[len(prefix) :]


# Avatars stored by earlier versions may carry any extension, so the public route does not
# insist on the allow-list; but what it reads from the URL must make a plain, short key.
_PLAIN_EXTENSION = re.compile(r"[A-Za-z0-9]{1,10}")


def is_plain_extension(extension: str) -> bool:
    """`png` yes; NUL bytes, dots, slashes or 300 characters (an unusable key) no."""
    return _PLAIN_EXTENSION.fullmatch(extension) is not None


def avatar_content_type(extension: str) -> str:
    return AVATAR_CONTENT_TYPES.get(extension.lower(), "image/jpeg")

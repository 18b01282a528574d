"""Idempotency keys (IETF draft-ietf-httpapi-idempotency-key-header): the model.

A client names a creating request with a key; the first successful answer to it is kept, with
a fingerprint of the request, for `KEY_LIFETIME`, and a retry with the same key and request
gets that answer again instead of a second effect. Keys belong to their user: two users' equal
keys are two keys.

Only answers with an effect are kept. A request that fails (403, 404, a validation error, a
crash) rolls its transaction back with the key in it, so a retry runs again: a key is never
stored without its effect, nor an effect without its key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from faros.domain.errors import Conflict, FieldInvalid, Invalid

KEY_LIFETIME: Final = timedelta(hours=24)
MAX_KEY_LENGTH: Final = 255
HEADER: Final = "Idempotency-Key"
KEY_LOC: Final = ("header", HEADER)

MALFORMED_KEY: Final = (
    f"{HEADER} must be a quoted string (RFC 8941 sf-string) or a token of 1 to "
    f"{MAX_KEY_LENGTH} printable ASCII characters"
)
KEY_IN_USE: Final = f"A request with this {HEADER} is still being processed; retry later"
KEY_REUSED: Final = f"This {HEADER} was already used with a different request"


# `parse_key`'s rule as a regular expression (for the document; a test holds them together):
# an sf-string of 1 to 255 characters (an escape pair counts as one), or a bare token.
_QUOTED_CHAR = r'(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])'
_BARE_CHAR = r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]"
KEY_PATTERN: Final = (
    rf'^[ \t]*(?:"{_QUOTED_CHAR}{{1,{MAX_KEY_LENGTH}}}"|{_BARE_CHAR}{{1,{MAX_KEY_LENGTH}}})[ \t]*$'
)


class MalformedIdempotencyKey(Invalid):
    """The header is present but no valid key (400)."""

    def __init__(self) -> None:
        super().__init__(MALFORMED_KEY)


class IdempotencyKeyInUse(Conflict):
    """The first request with this key has not finished yet (409, the draft's §2.7)."""

    def __init__(self) -> None:
        super().__init__(KEY_IN_USE)


class IdempotencyKeyReused(FieldInvalid):
    """The key was used for another request: another method, path or body (422, §2.7)."""

    def __init__(self, key: str) -> None:
        super().__init__(KEY_LOC, KEY_REUSED, key)


def _sf_string(raw: str) -> str | None:
    """The value of an RFC 8941 §3.3.3 sf-string (`"..."`, `\\"` and `\\\\` escaped)."""
    chars: list[str] = []
    escaped = False
    for char in raw[1:-1]:
        if escaped:
            if char not in '"\\':
                return None
            chars.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            return None
        else:
            chars.append(char)
    return None if escaped else "".join(chars)


def parse_key(raw: str) -> str:
    """The key a header value names, or `MalformedIdempotencyKey`.

    The draft's form is an sf-string: `Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"`.
    An unquoted value is accepted too, as its own text (many clients and libraries send the
    bare UUID); it may not contain quotes, spaces or commas, so it cannot be mistaken for a
    list or a malformed string. `"abc"` and `abc` are the same key.
    """
    value = raw.strip(" \t")
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        key = _sf_string(value)
    elif value and all(char not in '"\\,; \t' for char in value):
        key = value
    else:
        key = None
    if key is None or not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise MalformedIdempotencyKey()
    if any(not 0x20 <= ord(char) <= 0x7E for char in key):
        raise MalformedIdempotencyKey()
    return key


class Fingerprint:
    """A SHA-256 over the request's method, path and payload, fed as the payload arrives.

    An upload is hashed chunk by chunk as its stream is read, so a 10 MiB body is never held
    a second time. Each item is length-prefixed: no two different requests feed the same bytes.
    """

    __slots__ = ("_hash",)

    def __init__(self, method: str, path: str) -> None:
        self._hash = hashlib.sha256()
        self.add(method.upper().encode())
        self.add(path.encode())

    def add(self, item: bytes) -> None:
        self._hash.update(len(item).to_bytes(8, "big"))
        self._hash.update(item)

    def add_chunk(self, chunk: bytes) -> None:
        """Part of a streamed item (not length-prefixed: the stream's split is arbitrary)."""
        self._hash.update(chunk)

    def digest(self) -> bytes:
        return self._hash.digest()


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The answer kept for a key: what a replay sends back (with `Idempotent-Replayed`)."""

    status_code: int
    content_type: str
    body: bytes
    location: str | None = None


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    user_id: int
    key: str
    fingerprint: bytes
    response: StoredResponse
    created_at: datetime
    expires_at: datetime


class IdempotentReplay(Exception):
    """Raised inside the unit of work of a repeated request: nothing is written, and the edge
    answers the stored response."""

    def __init__(self, response: StoredResponse) -> None:
        super().__init__("replayed")
        self.response = response

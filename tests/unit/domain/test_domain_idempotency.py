"""Idempotency-Key values (RFC 8941 sf-string, or a bare token) and request fingerprints."""

from __future__ import annotations

import re

import pytest

from faros.domain.idempotency import KEY_PATTERN, Fingerprint, MalformedIdempotencyKey, parse_key

VALID = [
    ('"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),
    ("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
    ('  "padded"\t', "padded"),
    ('"with space"', "with space"),
    ('"q\\"uote\\\\"', 'q"uote\\'),
    ('"' + "k" * 255 + '"', "k" * 255),
    ('"' + '\\"' * 255 + '"', '"' * 255),
    ('" "', " "),
]


@pytest.mark.parametrize(("raw", "key"), VALID)
def test_keys_are_read_as_the_draft_writes_them(raw: str, key: str) -> None:
    assert parse_key(raw) == key


MALFORMED = [
    "",
    '""',
    '"',
    '"a',
    'a"',
    '"a"b"',
    '"\\n"',
    '"a\\"',
    "a b",
    "a,b",
    "a;b",
    '"\u00e9"',
    '"\x7f"',
    "k" * 256,
    '"' + "k" * 256 + '"',
    '"tab\there"',
    "\t",
]


@pytest.mark.parametrize("raw", MALFORMED)
def test_other_values_are_malformed(raw: str) -> None:
    with pytest.raises(MalformedIdempotencyKey):
        parse_key(raw)


def test_fingerprints_tell_method_path_and_body_apart() -> None:
    def of(method: str, path: str, *items: bytes) -> bytes:
        fingerprint = Fingerprint(method, path)
        for item in items:
            fingerprint.add(item)
        return fingerprint.digest()

    base = of("POST", "/tasks?", b'{"title":"a"}')
    assert base == of("post", "/tasks?", b'{"title":"a"}')
    assert base != of("PATCH", "/tasks?", b'{"title":"a"}')
    assert base != of("POST", "/tasks/1?", b'{"title":"a"}')
    assert base != of("POST", "/tasks?", b'{"title":"b"}')
    # Length prefixes: moving bytes between items changes the fingerprint.
    assert of("POST", "/p", b"ab", b"c") != of("POST", "/p", b"a", b"bc")


def test_a_streamed_item_hashes_the_same_however_it_is_split() -> None:
    one, two = Fingerprint("POST", "/f"), Fingerprint("POST", "/f")
    one.add_chunk(b"hello world")
    for chunk in (b"he", b"llo", b" world"):
        two.add_chunk(chunk)
    assert one.digest() == two.digest()


@pytest.mark.parametrize("raw", [raw for raw, _ in VALID] + MALFORMED)
def test_the_documented_pattern_is_the_rule(raw: str) -> None:
    try:
        parse_key(raw)
        valid = True
    except MalformedIdempotencyKey:
        valid = False
    assert (re.fullmatch(KEY_PATTERN, raw) is not None) == valid

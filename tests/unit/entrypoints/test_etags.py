"""Parsing of entity-tag lists (RFC 9110 §5.6.1, §8.8.3) and the two comparisons."""

from __future__ import annotations

import pytest

from faros.domain.tasks import VersionPrecondition
from faros.entrypoints.http.etags import (
    EntityTag,
    etag_of,
    if_match,
    none_match,
    parse_entity_tags,
)


@pytest.mark.parametrize(
    ("value", "tags"),
    [
        ('"a"', [EntityTag("a", weak=False)]),
        ('W/"a"', [EntityTag("a", weak=True)]),
        ('"a,b", W/"c"', [EntityTag("a,b", weak=False), EntityTag("c", weak=True)]),
        (' ,, "a" ,\t"b",', [EntityTag("a", weak=False), EntityTag("b", weak=False)]),
        ('""', [EntityTag("", weak=False)]),
        ('"\x80\xff"', [EntityTag("\x80\xff", weak=False)]),  # obs-text
        ('"a\\"', [EntityTag("a\\", weak=False)]),  # no escapes in tags: a backslash is one
        ("", []),
        (" , ", []),
    ],
)
def test_valid_lists(value: str, tags: list[EntityTag]) -> None:
    assert parse_entity_tags(value) == tags


@pytest.mark.parametrize(
    "value",
    ["a", '"a" "b"', '"a', 'w/"a"', 'W/ "a"', '"a b"', '"a"b', '"a\x7f"', '*, "a"'],
)
def test_malformed_lists(value: str) -> None:
    assert parse_entity_tags(value) is None


def test_if_match() -> None:
    assert if_match(None, 42) is None
    assert if_match(" * ", 42) == VersionPrecondition(any_version=True)
    assert if_match(f'{etag_of(42, 3)}, "42-5", W/"42-7", "43-9"', 42) == VersionPrecondition(
        frozenset({3, 5})
    )
    assert if_match('"42-3" junk', 42) == VersionPrecondition()
    never = if_match('"042-3", "42-03", "42-0", "42-3x"', 42)
    assert never is not None
    assert not any(never.holds(v) for v in range(10))


def test_none_match_compares_weakly() -> None:
    assert none_match('W/"42-3"', 42, 3)
    assert none_match("*", 42, 3)
    assert not none_match('"42-3"', 42, 4)
    assert not none_match('"42-3"', 43, 3)
    assert not none_match(None, 42, 3)
    assert not none_match('"42-3', 42, 3)

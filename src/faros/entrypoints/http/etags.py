"""Entity tags of tasks and the conditional headers that carry them (RFC 9110 §8.8.3, §13).

A task's ETag is strong and made of its id and version, `"42-3"`: the id keeps one task's tag
from ever matching another task. `If-Match` (before a write) uses the strong comparison: a
weak tag (`W/"42-3"`) never matches; `*` matches any existing task. `If-None-Match` (before a
read) uses the weak comparison, so `W/"42-3"` matches `"42-3"`. A header that is not a valid
list of entity tags matches nothing: a write is refused (412), a read is answered in full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Final

from litestar.datastructures import ResponseHeader
from litestar.openapi.spec import Example
from litestar.params import HeaderParameter

from faros.domain.tasks import VersionPrecondition

__all__ = [
    "ETAG_HEADER",
    "IfMatch",
    "IfNoneMatch",
    "etag_of",
    "if_match",
    "none_match",
    "parse_entity_tags",
]

# etagc = %x21 / %x23-7E / obs-text (%x80-FF): any visible character but the double quote.
_OPAQUE: Final = re.compile(r'"([\x21\x23-\x7e\x80-\xff]*)"')
# The opaque part of a tag this server made: no leading zeros, at most int32 / int64 digits
# (a string of thousands of digits is never turned into an int).
_OURS: Final = re.compile(r"([1-9][0-9]{0,9})-([1-9][0-9]{0,18})")


def etag_of(task_id: int, version: int) -> str:
    return f'"{task_id}-{version}"'


@dataclass(frozen=True, slots=True)
class EntityTag:
    opaque: str
    weak: bool


def parse_entity_tags(value: str) -> list[EntityTag] | None:
    """`#entity-tag` (RFC 9110 §5.6.1: empty list elements allowed), or None when the value is
    not one. Tags may hold commas, so the list is scanned, not split."""
    tags: list[EntityTag] = []
    position, end = 0, len(value)
    expect_tag = True
    while position < end:
        char = value[position]
        if char in " \t":
            position += 1
        elif char == ",":
            expect_tag = True
            position += 1
        elif not expect_tag:
            return None
        else:
            weak = value.startswith("W/", position)
            found = _OPAQUE.match(value, position + 2 if weak else position)
            if found is None:
                return None
            tags.append(EntityTag(found.group(1), weak))
            position, expect_tag = found.end(), False
    return tags


def _version_in(tag: EntityTag, task_id: int) -> int | None:
    ours = _OURS.fullmatch(tag.opaque)
    if ours is None or int(ours.group(1)) != task_id:
        return None
    return int(ours.group(2))


def if_match(value: str | None, task_id: int) -> VersionPrecondition | None:
    """The domain's precondition from an `If-Match` header (None: no header, no condition)."""
    if value is None:
        return None
    if value.strip(" \t") == "*":
        return VersionPrecondition(any_version=True)
    versions = {
        version
        for tag in parse_entity_tags(value) or []
        if not tag.weak and (version := _version_in(tag, task_id)) is not None
    }
    return VersionPrecondition(frozenset(versions))


def none_match(value: str | None, task_id: int, version: int) -> bool:
    """Whether an `If-None-Match` header names the task as it is now (then: 304)."""
    if value is None:
        return False
    current = etag_of(task_id, version)
    # What a client re-reading its copy sends, compared without parsing.
    if value in (current, "W/" + current) or value.strip(" \t") == "*":
        return True
    return any(_version_in(tag, task_id) == version for tag in parse_entity_tags(value) or [])


# Documented as a plain string: "absent" is not a value a client sends (Litestar would write
# `oneOf: [string, null]`, an inline schema generated clients type awkwardly).
_STRING: Final = {"one_of": None, "type": "string"}

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        schema_extra=_STRING,
        description=(
            "Write only if the task is still as you read it: its `ETag` from a read or write "
            "(or several, comma-separated), or `*` for any version. A weak tag (`W/`) never "
            "matches. When the task has changed since: 412 with the current task. Without "
            "this header the write is unconditional."
        ),
        examples=[
            Example(summary="The task as read at version 3", value='"42-3"'),
            Example(summary="Any version, as long as the task exists", value="*"),
        ],
    ),
]
IfNoneMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-None-Match",
        required=False,
        schema_extra=_STRING,
        description=(
            "The `ETag`(s) of the copy you hold: when the task is still that version, the "
            "answer is 304 with no body (weak comparison: `W/` tags match too; `*` matches "
            "any version)."
        ),
        examples=[Example(summary="The copy read at version 3", value='"42-3"')],
    ),
]

ETAG_HEADER: Final = ResponseHeader(
    name="ETag",
    value='"42-3"',
    description=(
        'The task\'s entity tag (strong): `"<task id>-<version>"`; `version` in the body is '
        "the same number. Send it back in `If-Match` to write only if no one changed the "
        "task meanwhile, or in `If-None-Match` to read it only if it changed"
    ),
    documentation_only=True,
    required=True,
)

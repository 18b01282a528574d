"""The control-character rule (#14 item 12) and the patterns that document it agree."""

from __future__ import annotations

import re

import pytest

from faros.domain.text import (
    MULTILINE_PATTERN,
    ONE_LINE_PATTERN,
    control_character_problem,
    one_line,
)

SAMPLES = [f"a{chr(code)}b" for code in [*range(0xA0), 0x2028, 0x2029, 0x202E]] + [
    "a\r\nb",
    "a\rb",
    "a\r\r\nb",
    "a\n\rb",
    "\r\n",
    "",
    "tab\there",
]


@pytest.mark.parametrize("multiline", [False, True])
def test_the_documented_pattern_states_the_rule(multiline: bool) -> None:
    # Python's `$` also matches before a final newline; the document's ECMA-262 one does not.
    documented = MULTILINE_PATTERN if multiline else ONE_LINE_PATTERN
    pattern = re.compile(documented.removeprefix("^").removesuffix("$"))
    for text in SAMPLES:
        allowed = pattern.fullmatch(text) is not None
        assert allowed == (control_character_problem(text, multiline=multiline) is None), text


def test_line_breaks_are_content_only_in_multiline_text() -> None:
    assert control_character_problem("one\ntwo\r\nthree\tfour", multiline=True) is None
    assert control_character_problem("one\ntwo") is not None
    assert control_character_problem("T\r\nBcc: x@evil") is not None


def test_one_line_makes_any_stored_value_a_safe_header() -> None:
    assert one_line("T\r\nBcc: x@evil\x07") == "T Bcc: x@evil "
    assert one_line("plain title") == "plain title"

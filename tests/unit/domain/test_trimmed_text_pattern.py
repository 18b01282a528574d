"""The documented pattern of trimmed text (D8) admits exactly what the server keeps: no forbidden
control character, and `low`..`high` characters once `str.strip()` has removed the edges."""

from __future__ import annotations

import random
import re
import sys

import pytest

from faros.domain.text import control_character_problem, trimmed_text_pattern

RANGES = [(0, 1), (1, 1), (2, 2), (0, 50), (1, 200), (3, 7), (0, 1000)]


def _server_keeps(text: str, low: int, high: int, multiline: bool) -> bool:
    return (
        control_character_problem(text, multiline=multiline) is None
        and low <= len(text.strip()) <= high
    )


def _documented(low: int, high: int, multiline: bool) -> re.Pattern[str]:
    # Python's `$` also matches before a final newline; the document's ECMA-262 one does not.
    return re.compile(trimmed_text_pattern(low, high, multiline=multiline).removesuffix("$"))


@pytest.mark.parametrize("multiline", [False, True])
def test_every_character_is_classified_as_strip_and_the_control_rule_do(multiline: bool) -> None:
    pattern = _documented(0, 3, multiline)
    # Every whitespace and control character is below U+3001; beyond it, a sample.
    codes = [*range(0x3001), *range(0x3001, sys.maxunicode + 1, 97)]
    for code in codes:
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue  # not text: JSON cannot carry a lone surrogate as a character
        for text in (char, f"a{char}b", f"{char}abc{char}"):
            expected = _server_keeps(text, 0, 3, multiline)
            assert (pattern.fullmatch(text) is not None) == expected, (hex(code), text)


@pytest.mark.parametrize("multiline", [False, True])
@pytest.mark.parametrize(("low", "high"), RANGES)
def test_random_texts_agree(low: int, high: int, multiline: bool) -> None:
    pattern = _documented(low, high, multiline)
    alphabet = [" ", "\t", "\n", "\r", "\r\n", "a", "\u00a0", "\u2028", "\x85", "\u3000"]
    alphabet += ["\u200b", "\U0001f600", "\x0b", "\x1c", "é"]
    chooser = random.Random(f"{low}-{high}-{multiline}")
    for _ in range(3000):
        size = chooser.randint(max(low - 3, 0), high + 3) if high < 60 else chooser.randint(0, 9)
        text = "".join(chooser.choice(alphabet) for _ in range(size))
        if high >= 60 and chooser.random() < 0.5:  # around the limit, with edge whitespace
            core = "x" + "y" * chooser.randint(high - 4, high) + "z"
            text = " " * chooser.randint(0, 2) + core + "\t" * chooser.randint(0, 2)
        expected = _server_keeps(text, low, high, multiline)
        assert (pattern.fullmatch(text) is not None) == expected, repr(text)


def test_the_examples_of_issue_16() -> None:
    tag = _documented(0, 50, False)
    assert tag.fullmatch(" " + "*" * 50)
    assert not tag.fullmatch("*" * 51)
    assert tag.fullmatch("   ")  # an empty tag is kept as sent (API.md §2.3)
    title = _documented(1, 200, False)
    assert not title.fullmatch("   ")
    assert title.fullmatch("\u3000" + "t" * 200 + " ")


def test_a_range_that_holds_no_text_is_refused() -> None:
    with pytest.raises(ValueError, match="bad length range"):
        trimmed_text_pattern(2, 1)
    with pytest.raises(ValueError, match="bad length range"):
        trimmed_text_pattern(0, 0)

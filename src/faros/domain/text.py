"""Free text users write: which characters a stored value may hold, and how any value, even
one stored before these rules, is made safe for a one-line context such as an e-mail header.

Control characters are never content: in a title they break every e-mail subject built from it
(a CR or LF there is a header injection, so the message can never be sent), and in logs and
terminals they forge lines and escape sequences. Tab is text everywhere. Line ends are content
in the multi-line fields (descriptions, comments): LF, or CRLF as browsers submit a textarea.
"""

from __future__ import annotations

import re
from typing import Final

from faros.domain.errors import FieldInvalid

# C0 controls, DEL and the C1 controls (NEL, U+0085, among them), tab excepted; one-line
# values also refuse the Unicode line and paragraph separators, as e-mail headers must.
_ONE_LINE_FORBIDDEN: Final = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
# A CR is only allowed as the first half of CRLF.
_MULTILINE_FORBIDDEN: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")
# What `one_line` replaces: every control character (tab included) and line separator, in runs.
_NOT_ONE_LINE: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")

# The same rules as JSON Schema (ECMA-262) patterns over the value as sent, for the API document:
# one-line text holds no control character but tab; multi-line text may also hold LF and CRLF.
ONE_LINE_PATTERN: Final = "^[^\\u0000-\\u0008\\u000a-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
MULTILINE_PATTERN: Final = "^(?:[^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]|\\r\\n)*$"

# Text trimmed before its length is checked (D8), as one pattern over the value as sent: JSON
# Schema's maxLength counts the raw value, so `" " + 50 * "x"` would look too long for the
# 50-character tag the server keeps. Whitespace is what Python's `str.strip()` removes; the
# pattern is the control-character rule above, its characters split into whitespace and the rest.
_WIDE_SPACES: Final = "\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000"
_EDGE_ONE_LINE: Final = f"[\\t \\u00a0{_WIDE_SPACES}]"
_EDGE_MULTILINE: Final = f"(?:[\\t\\n \\u00a0\\u2028\\u2029{_WIDE_SPACES}]|\\r(?=\\n))"
_SOLID: Final = f"[^\\u0000-\\u0020\\u007f-\\u00a0\\u2028\\u2029{_WIDE_SPACES}]"
# Any allowed character; in multi-line text a CR only before an LF (one character each, so a
# repeat counts characters as `len` does).
_ANY_ONE_LINE: Final = "[^\\u0000-\\u0008\\u000a-\\u001f\\u007f-\\u009f\\u2028\\u2029]"
_ANY_MULTILINE: Final = "(?:[^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]|\\r(?=\\n))"


def trimmed_text_pattern(low: int, high: int, *, multiline: bool = False) -> str:
    """A JSON Schema (ECMA-262, and Python `re`) pattern for text that holds no forbidden control
    character and is `low`..`high` characters long once leading and trailing whitespace is
    trimmed: optional edge whitespace around a core that starts and ends with a non-space."""
    if not 0 <= low <= high or high < 1:
        raise ValueError(f"bad length range {low}..{high}")
    edge = _EDGE_MULTILINE if multiline else _EDGE_ONE_LINE
    inner = _ANY_MULTILINE if multiline else _ANY_ONE_LINE
    if high == 1:
        core = _SOLID
    elif low <= 1:
        core = f"{_SOLID}(?:{inner}{{0,{high - 2}}}{_SOLID})?"
    else:
        core = f"{_SOLID}{inner}{{{low - 2},{high - 2}}}{_SOLID}"
    if low == 0:
        core = f"(?:{core})?"
    return f"^{edge}*{core}{edge}*$"


ONE_LINE_MESSAGE: Final = "String must not contain line breaks or other control characters"
MULTILINE_MESSAGE: Final = (
    "String must not contain control characters other than tabs and line breaks"
)


def control_character_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why `text` may not be stored as a one-line (or multi-line) value, or None."""
    if multiline:
        return MULTILINE_MESSAGE if _MULTILINE_FORBIDDEN.search(text) else None
    return ONE_LINE_MESSAGE if _ONE_LINE_FORBIDDEN.search(text) else None


def require_clean_text(loc: tuple[str | int, ...], text: str, *, multiline: bool = False) -> None:
    """Raise the 422 `FieldInvalid` at `loc` when `text` breaks the rule above."""
    problem = control_character_problem(text, multiline=multiline)
    if problem is not None:
        raise FieldInvalid(loc, problem, text)


def one_line(text: str) -> str:
    """`text` with each run of control characters and line separators made one space."""
    return _NOT_ONE_LINE.sub(" ", text)

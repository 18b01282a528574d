"""Ids are 32-bit serial keys (API.md §1.1): a value outside this range can name nothing."""

from __future__ import annotations

from typing import Final

INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1


def is_int32(value: int) -> bool:
    return INT32_MIN <= value <= INT32_MAX

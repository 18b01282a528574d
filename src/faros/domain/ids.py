"""Record ids are 32-bit serials: a number outside that range names no record."""

from __future__ import annotations

from typing import Final

INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1

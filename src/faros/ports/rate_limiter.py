from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(slots=True, frozen=True)
class RateLimit:
    amount: int
    per_seconds: int

    @property
    def text(self) -> str:
        unit = {60: "minute", 3600: "hour", 86400: "day"}.get(self.per_seconds)
        if unit is None:
            return f"{self.amount} per {self.per_seconds} second"
        return f"{self.amount} per 1 {unit}"


@dataclass(slots=True, frozen=True)
class RateDecision:
    allowed: bool
    remaining: int
    reset_after_seconds: int


class RateLimiter(Protocol):
    async def hit(self, limit: RateLimit, key: str) -> RateDecision:
        """Count one request against `key` in a fixed window and say whether it may proceed."""
        ...

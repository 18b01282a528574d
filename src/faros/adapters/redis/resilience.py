"""Keeping a sick Redis from slowing requests down.

Redis is an optimisation here (stats cache, shared rate-limit counters), never a dependency: a
request must not wait on a Redis that is down (connection refused, fast) or hung (accepts the
connection, never answers, slow). So every call gets a short timeout and no client-side retries,
and a circuit breaker stops calling Redis for a while after a failure, then lets one probe through
to find out whether it is back. The outage and the recovery are each logged once.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

_log = logging.getLogger("faros.adapters.redis")
_T = TypeVar("_T")

DEFAULT_TIMEOUT_SECONDS: Final = 0.1
DEFAULT_CONNECT_TIMEOUT_SECONDS: Final = 0.5
DEFAULT_COOLDOWN_SECONDS: Final = 5.0


@dataclass(frozen=True, slots=True)
class RedisTimeouts:
    """How long to wait for Redis.

    `read` catches a hung Redis: it accepts connections (the kernel does that) but never
    answers, so the first reply times out. `connect` only matters for an unreachable host and is
    rarely paid (connections are pooled), so it is roomier: on a busy machine many requests
    opening connections at once wait for the event loop (bench/README.md), and a false alarm
    would push every worker onto local fallbacks for a whole cool-down.
    """

    read: float = DEFAULT_TIMEOUT_SECONDS
    connect: float = DEFAULT_CONNECT_TIMEOUT_SECONDS

    @property
    def deadline(self) -> float:
        """Bound on one whole operation: a connection plus a few round trips (a rate-limit hit
        takes three). A safety net only; the socket timeouts normally fire first."""
        return self.connect + 3 * self.read


def connection_options(timeouts: RedisTimeouts) -> dict[str, Any]:
    """redis-py options for a fail-fast connection.

    redis-py retries connection and timeout errors by default (10 times with backoff in 8.x),
    which would turn one hung call into seconds; the breaker decides about retrying instead.
    """
    return {
        "socket_timeout": timeouts.read,
        "socket_connect_timeout": timeouts.connect,
        "retry": Retry(NoBackoff(), 0),
    }


def fail_fast_client(url: str, timeouts: RedisTimeouts) -> Redis:
    """A `redis.asyncio.Redis` for `url` with short timeouts and no retries."""
    return Redis.from_url(url, **connection_options(timeouts))


def fail_fast_pool(url: str, timeouts: RedisTimeouts) -> ConnectionPool:
    """A connection pool for `url` with short timeouts and no retries."""
    return ConnectionPool.from_url(url, **connection_options(timeouts))


class _Pass(enum.Enum):
    NORMAL = enum.auto()  # breaker closed: business as usual
    PROBE = enum.auto()  # breaker open, cool-down over: this call finds out if Redis is back


class CircuitBreaker:
    """Runs Redis operations with a deadline; after a failure, skips Redis for `cooldown_seconds`.

    `deadline_seconds` bounds a whole operation, whatever the client's own timeouts are.

    Only one probe runs at a time while open, so a hung Redis costs one request one timeout per
    cool-down instead of costing every request. `name` appears in the log lines.

    One breaker may serve several adapters on the same server (the app shares one between the
    stats cache and the rate limiter): the first timeout then takes both off Redis, so no second
    request pays a timeout to learn the same thing, and one line is logged per outage.
    """

    def __init__(
        self,
        name: str,
        *,
        deadline_seconds: float = RedisTimeouts().deadline,
        cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._name = name
        self._deadline = deadline_seconds
        self._cooldown = cooldown_seconds
        self._monotonic = monotonic
        self._open_until: float | None = None  # None: closed
        self._probing = False

    @property
    def available(self) -> bool:
        """False while Redis is considered down (for health reporting)."""
        return self._open_until is None

    async def call(
        self, operation: Callable[[], Awaitable[_T]], fallback: Callable[[], Awaitable[_T]]
    ) -> _T:
        """`operation()` if Redis is usable and answers in time, otherwise `fallback()`."""
        ticket = self._admit()
        if ticket is None:
            return await fallback()
        settled = False
        try:
            async with asyncio.timeout(self._deadline):
                result = await operation()
            settled = True
        # Blind on purpose: the ports promise callers that a Redis problem never raises, and
        # redis-py, `limits` and the network have many exception types between them.
        except Exception as exc:  # noqa: BLE001
            settled = True
            self._record_failure(ticket, exc)
            return await fallback()
        finally:
            if not settled:  # cancelled from outside: we learnt nothing about Redis
                self._abandon(ticket)
        self._record_success(ticket)
        return result

    def _admit(self) -> _Pass | None:
        if self._open_until is None:
            return _Pass.NORMAL
        if self._probing or self._monotonic() < self._open_until:
            return None
        self._probing = True
        return _Pass.PROBE

    def _record_failure(self, ticket: _Pass, exc: Exception) -> None:
        if ticket is _Pass.PROBE:
            self._probing = False
            self._open_until = self._monotonic() + self._cooldown
            return
        if self._open_until is None:
            self._open_until = self._monotonic() + self._cooldown
            _log.warning(
                "Redis (%s) unavailable, falling back until it answers again: %s",
                self._name,
                _describe(exc, self._deadline),
            )
        # Already open: a call that started before the outage was noticed; nothing new.

    def _record_success(self, ticket: _Pass) -> None:
        if ticket is _Pass.PROBE:
            self._probing = False
            self._open_until = None
            _log.warning("Redis (%s) is answering again", self._name)
        # A NORMAL success while open is a call from before the outage: it proves nothing.

    def _abandon(self, ticket: _Pass) -> None:
        if ticket is _Pass.PROBE:
            self._probing = False  # the next caller probes instead


def _describe(exc: BaseException, timeout_seconds: float) -> str:
    text = str(exc)
    if not text and isinstance(exc, TimeoutError):  # our own deadline fired; say which one
        text = f"no answer within {timeout_seconds:g} s"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

"""Users authenticated recently, kept in the process until anything about users changes.

Personal access tokens are kept the same way, with their user (by the digest of their
secret): migration 0006 makes revoking one notify like a logout does.

Every authenticated request asks for the user its token names and whether the token was
revoked: one round trip to PostgreSQL, about a quarter of a cheap request's cost. Those
answers hardly ever change, so each process keeps them, and forgets *all* of them when
PostgreSQL says a user or the deny-list changed (`NOTIFY faros_auth_changed`, sent by the
triggers of migration 0002 when the change commits). So a logout, a password change or an
operator's UPDATE takes effect in every process as soon as the notification arrives, within
milliseconds; the process that made the change forgets right after its commit, without
waiting for its own notification (`Database.commit`).

Only trusted while the listening connection is known to be up: the cache is bypassed until
LISTEN is in place, after any connection loss, and when a periodic probe of that connection
fails; entries also expire after `ENTRY_SECONDS`, bounding what a silently broken network
could hide.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

import asyncpg

from faros.domain.api_tokens import ApiToken
from faros.domain.users import User

logger = logging.getLogger("faros.postgres")

CHANNEL: Final = "faros_auth_changed"
MAX_ENTRIES: Final = 10_000
ENTRY_SECONDS: Final = 60.0
PROBE_SECONDS: Final = 5.0  # how often the listening connection is checked
PROBE_TIMEOUT_SECONDS: Final = 2.0
RECONNECT_SECONDS: Final = 1.0

Connect = Callable[[], Awaitable[asyncpg.Connection]]


class AuthCache:
    def __init__(self, connect: Connect) -> None:
        self._connect = connect
        self._entries: dict[tuple[str, str], tuple[User, float]] = {}
        self._tokens: dict[str, tuple[User, ApiToken, float]] = {}
        self._generation = 0
        self._trusted = False
        self._task: asyncio.Task[None] | None = None
        # The server process of the LISTEN connection, while there is one (for operators
        # looking at pg_stat_activity, and for tests that cut it).
        self.listener_pid: int | None = None

    # --------------------------------------------------------------- the cache

    @property
    def generation(self) -> int:
        """Taken before a database read; `put` refuses the result if anything changed since."""
        return self._generation

    def get(self, username: str, jti: str) -> User | None:
        """A copy of the user, if known and trusted (callers may change their copy)."""
        if not self._trusted:
            self._start()
            return None
        entry = self._entries.get((username, jti))
        if entry is None:
            return None
        user, stored_at = entry
        if time.monotonic() - stored_at > ENTRY_SECONDS:
            del self._entries[(username, jti)]
            return None
        return replace(user)

    def put(self, username: str, jti: str, user: User, generation: int) -> None:
        if not self._trusted or generation != self._generation:
            return  # read while a change was (maybe) happening: not kept
        if len(self._entries) >= MAX_ENTRIES:
            del self._entries[next(iter(self._entries))]
        self._entries[(username, jti)] = (replace(user), time.monotonic())

    def get_token(self, token_hash: str) -> tuple[User, ApiToken] | None:
        """An access token known and trusted, with a copy of its user (see `get`)."""
        if not self._trusted:
            self._start()
            return None
        entry = self._tokens.get(token_hash)
        if entry is None:
            return None
        user, token, stored_at = entry
        if time.monotonic() - stored_at > ENTRY_SECONDS:
            del self._tokens[token_hash]
            return None
        return replace(user), token

    def put_token(self, token_hash: str, found: tuple[User, ApiToken], generation: int) -> None:
        if not self._trusted or generation != self._generation:
            return
        if len(self._tokens) >= MAX_ENTRIES:
            del self._tokens[next(iter(self._tokens))]
        user, token = found
        self._tokens[token_hash] = (replace(user), token, time.monotonic())

    def touched_token(self, token_hash: str, when: datetime) -> None:
        """The token's use was recorded: keep the cached copy in step (no new entry)."""
        entry = self._tokens.get(token_hash)
        if entry is not None:
            user, token, stored_at = entry
            self._tokens[token_hash] = (user, replace(token, last_used_at=when), stored_at)

    def forget_all(self) -> None:
        self._entries.clear()
        self._tokens.clear()
        self._generation += 1

    # --------------------------------------------------------------- listening

    def _start(self) -> None:
        if self._task is None:
            # A context of its own: not the request's that happened to start it.
            self._task = asyncio.get_running_loop().create_task(
                self._listen_forever(), context=contextvars.Context()
            )

    async def _listen_forever(self) -> None:
        while True:
            try:
                await self._listen_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - any failure means: listen again
                logger.debug("auth change listener: %s: %s", type(error).__name__, error)
            finally:
                self._trusted = False
                self.forget_all()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen_once(self) -> None:
        connection = await self._connect()
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _: lost.set())
            await connection.add_listener(CHANNEL, self._heard)
            self.listener_pid = connection.get_server_pid()
            # From here on every change is heard; whatever was cached before is not trusted.
            self.forget_all()
            self._trusted = True
            while not lost.is_set():
                try:
                    await asyncio.wait_for(lost.wait(), PROBE_SECONDS)
                except TimeoutError:
                    await connection.fetchval("SELECT 1", timeout=PROBE_TIMEOUT_SECONDS)
        finally:
            self._trusted = False
            self.listener_pid = None
            connection.terminate()

    def _heard(self, *_: Any) -> None:
        self.forget_all()

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

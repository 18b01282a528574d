"""Password hashing with argon2id, verifying legacy bcrypt hashes from the original FAROS (D22).

Hashing is CPU- and memory-bound (about 19 MiB and tens of milliseconds per call), so it runs on
a small dedicated thread pool: the event loop stays free, and a login flood waits in the pool's
queue instead of multiplying threads (and their 19 MiB each) or starving other `to_thread` users.

The pool leaves one core to the event loop (one thread on a 2-core machine) and its threads
run at the lowest scheduling priority: when the machine is busy, a login waits a little longer
for the CPU rather than every other request. Measured on 2 cores, a flood of logins with two
normal-priority threads multiplied the p99 of concurrent task reads by 5 (bench/README.md).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final, ParamSpec, TypeVar

import bcrypt
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP Password Storage Cheat Sheet, argon2id minimum: 19 MiB, 2 iterations, 1 lane.
OWASP_MEMORY_COST_KIB: Final = 19_456
OWASP_TIME_COST: Final = 2
OWASP_PARALLELISM: Final = 1

# While hashes queue up (a login flood), the hashing threads rest this much of each hash's
# time before the next: hashing then takes at most half a core per thread, so the flood slows
# logins down before it slows down everything else. A lone login never waits.
HASHING_REST_RATIO: Final = 1.0

# Linux's nice scale: 19 is the lowest priority. Other systems ignore it (see `_lower_priority`).
HASHING_NICENESS: Final = 19

logger = logging.getLogger("faros.security")

_P = ParamSpec("_P")
_R = TypeVar("_R")

_BCRYPT_PREFIXES: Final = ("$2a$", "$2b$", "$2y$")
# bcrypt only ever reads 72 bytes; the original's bcrypt truncated silently, the `bcrypt` 5.x
# package raises instead, so we truncate to keep long legacy passwords verifying.
_BCRYPT_MAX_BYTES: Final = 72
# A fixed input for the dummy hash; its value is irrelevant, only its cost matters.
_DUMMY_PASSWORD: Final = "faros-timing-equaliser"  # noqa: S105


def default_workers() -> int:
    return max(1, (os.cpu_count() or 1) - 1)


def _lower_priority() -> None:
    """Run this (hashing) thread at the lowest priority the OS offers.

    On Linux the nice value belongs to each thread, addressed by its native id; elsewhere the
    call may apply to the whole process or be unsupported, so it is made only on Linux.
    """
    if os.uname().sysname != "Linux":
        return
    try:
        # SCHED_IDLE: run only when nothing else of ours wants the CPU. `0` is this thread.
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)
    except OSError:  # a sandbox may forbid it; hashing still works, just not deprioritised
        logger.debug("could not lower the hashing thread's priority", exc_info=True)


class Argon2PasswordHasher:
    """`PasswordHasher` port: argon2id for new hashes, bcrypt accepted for verification only.

    `time_cost` / `memory_cost` / `parallelism` default to the OWASP values; tests may lower
    them. `workers` bounds how many hashes run at once: by default every core but one.
    """

    def __init__(
        self,
        *,
        time_cost: int = OWASP_TIME_COST,
        memory_cost: int = OWASP_MEMORY_COST_KIB,
        parallelism: int = OWASP_PARALLELISM,
        workers: int | None = None,
        rest_ratio: float = HASHING_REST_RATIO,
    ) -> None:
        self._argon2 = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            type=Type.ID,
        )
        self._executor = ThreadPoolExecutor(
            max_workers=workers or default_workers(),
            thread_name_prefix="argon2",
            initializer=_lower_priority,
        )
        self._dummy_hash: str | None = None
        self._rest_ratio = rest_ratio
        self._rest_until = 0.0
        self._pending = 0
        self._pending_lock = threading.Lock()

    async def hash(self, password: str) -> str:
        return await self._run(self._argon2.hash, _secret(password))

    async def verify(self, hashed: str, password: str) -> bool:
        return await self._run(self._verify_sync, hashed, password)

    def needs_rehash(self, hashed: str) -> bool:
        """True unless `hashed` is argon2id with exactly this hasher's parameters."""
        if hashed.startswith(_BCRYPT_PREFIXES):
            return True
        try:
            return self._argon2.check_needs_rehash(hashed)
        except (InvalidHashError, ValueError):
            return True

    async def burn(self, password: str) -> None:
        await self._run(self._burn_sync, password)

    def close(self) -> None:
        """Stop the worker threads (at application shutdown)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, fn: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        # If the awaiting request is cancelled before a worker picks the job up, the job is
        # dropped from the queue too (run_in_executor propagates the cancellation).
        loop = asyncio.get_running_loop()
        with self._pending_lock:
            self._pending += 1
        try:
            job = functools.partial(self._paced, functools.partial(fn, *args, **kwargs))
            return await loop.run_in_executor(self._executor, job)
        finally:
            with self._pending_lock:
                self._pending -= 1

    def _paced(self, job: Callable[[], _R]) -> _R:
        """Run `job`; while hashes queue up, rest between them (see HASHING_REST_RATIO)."""
        wait = self._rest_until - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        started = time.monotonic()
        try:
            return job()
        finally:
            finished = time.monotonic()
            with self._pending_lock:
                queued = self._pending > 1  # this job is still counted
            self._rest_until = (
                finished + (finished - started) * self._rest_ratio if queued else finished
            )

    # -- worker-thread side -----------------------------------------------------------------

    def _verify_sync(self, hashed: str, password: str) -> bool:
        if hashed.startswith(_BCRYPT_PREFIXES):
            return _bcrypt_verify(hashed, password)
        try:
            return self._argon2.verify(hashed, _secret(password))
        except (VerificationError, InvalidHashError, ValueError, TypeError):
            # VerifyMismatchError is a VerificationError; anything unreadable is a plain "no".
            return False

    def _burn_sync(self, password: str) -> None:
        if self._dummy_hash is None:
            # Made on first use (not at start-up) and kept; a race just makes it twice.
            self._dummy_hash = self._argon2.hash(_DUMMY_PASSWORD)
        self._verify_sync(self._dummy_hash, password)


def _secret(password: str) -> bytes:
    # UTF-8 as argon2-cffi and bcrypt use, but a lone surrogate (possible from some decoders)
    # must not turn a login into a 500: it is encoded as-is, the same way on hash and verify.
    return password.encode("utf-8", "surrogatepass")


def _bcrypt_verify(hashed: str, password: str) -> bool:
    try:
        return bcrypt.checkpw(_secret(password)[:_BCRYPT_MAX_BYTES], hashed.encode())
    except ValueError:  # malformed hash ("Invalid salt")
        return False

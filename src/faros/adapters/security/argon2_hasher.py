"""Password hashing with argon2id, verifying legacy bcrypt hashes from the original FAROS (D22).

Hashing is CPU- and memory-bound (about 19 MiB and 20 ms per call), so it runs in a small pool
of worker processes at the lowest scheduling priority, one fewer than there are cores:

- processes, not threads: a hashing thread shares the interpreter's lock with the event loop,
  and each time it takes the lock back the loop waits for the scheduler to run a
  lowest-priority thread. Measured on 2 cores during a login flood, concurrent reads' p99 grew
  1.2x with a thread and 1.1x with a process (bench/README.md).
- the lowest priority: when the machine is busy, a login waits for the CPU rather than every
  other request (two normal-priority threads multiplied reads' p99 by 5).
- a flood waits here, in a first-come queue, not in the pool: a request that gives up leaves
  it without costing a hash, and while hashes queue each worker rests as long as its last
  hash took, so the flood slows logins down before it slows down everything else.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from typing import Final, TypeVar

import bcrypt
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP Password Storage Cheat Sheet, argon2id minimum: 19 MiB, 2 iterations, 1 lane.
OWASP_MEMORY_COST_KIB: Final = 19_456
OWASP_TIME_COST: Final = 2
OWASP_PARALLELISM: Final = 1

# While hashes queue up (a login flood), a worker rests this much of each hash's time before
# the next: hashing then takes at most half a core per worker. A lone login never waits.
HASHING_REST_RATIO: Final = 1.0

# Linux's nice scale: 19 is the lowest priority. Other systems ignore it (see `_lower_priority`).
HASHING_NICENESS: Final = 19

logger = logging.getLogger("faros.security")

_R = TypeVar("_R")

_BCRYPT_PREFIXES: Final = ("$2a$", "$2b$", "$2y$")
# bcrypt only ever reads 72 bytes; the original's bcrypt truncated silently, the `bcrypt` 5.x
# package raises instead, so we truncate to keep long legacy passwords verifying.
_BCRYPT_MAX_BYTES: Final = 72
# A fixed input for the dummy hash; its value is irrelevant, only its cost matters.
_DUMMY_PASSWORD: Final = "faros-timing-equaliser"  # noqa: S105


def default_workers() -> int:
    return max(1, (os.cpu_count() or 1) - 1)


@dataclass(frozen=True)
class Argon2Parameters:
    """What a worker needs to rebuild the hasher (sent with every job: it is three numbers)."""

    time_cost: int = OWASP_TIME_COST
    memory_cost: int = OWASP_MEMORY_COST_KIB
    parallelism: int = OWASP_PARALLELISM


@dataclass
class _Worker:
    """One worker's turn in the pool, and when it may hash next."""

    rest_until: float = 0.0


class Argon2PasswordHasher:
    """`PasswordHasher` port: argon2id for new hashes, bcrypt accepted for verification only.

    `time_cost` / `memory_cost` / `parallelism` default to the OWASP values; tests may lower
    them. `workers` bounds how many hashes run at once: by default every core but one. The
    worker processes start at the first hash.
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
        self._parameters = Argon2Parameters(time_cost, memory_cost, parallelism)
        self._argon2 = _argon2(self._parameters)
        self._workers = workers or default_workers()
        self._rest_ratio = rest_ratio
        self._executor: ProcessPoolExecutor | None = None
        self._turns: asyncio.Queue[_Worker] | None = None
        self._turns_loop: asyncio.AbstractEventLoop | None = None
        self._waiting = 0

    async def hash(self, password: str) -> str:
        return await self._run(_hash, self._parameters, password)

    async def verify(self, hashed: str, password: str) -> bool:
        return await self._run(_verify, self._parameters, hashed, password)

    def needs_rehash(self, hashed: str) -> bool:
        """True unless `hashed` is argon2id with exactly this hasher's parameters."""
        if hashed.startswith(_BCRYPT_PREFIXES):
            return True
        try:
            return self._argon2.check_needs_rehash(hashed)
        except (InvalidHashError, ValueError):
            return True

    async def burn(self, password: str) -> None:
        await self._run(_burn, self._parameters, password)

    def close(self) -> None:
        """Stop the worker processes (at application shutdown)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def _run(self, job: Callable[..., _R], *args: object) -> _R:
        """Run `job(*args)` in a worker once one is free and rested (see HASHING_REST_RATIO)."""
        turns = self._turn_queue()
        self._waiting += 1
        try:
            worker = await turns.get()
        finally:
            self._waiting -= 1
        try:
            rest = worker.rest_until - time.monotonic()
            if rest > 0:
                await asyncio.sleep(rest)
            started = time.monotonic()
            try:
                return await self._submit(job, *args)
            finally:
                finished = time.monotonic()
                worker.rest_until = finished
                if self._waiting:
                    worker.rest_until += (finished - started) * self._rest_ratio
        finally:
            turns.put_nowait(worker)

    def _turn_queue(self) -> asyncio.Queue[_Worker]:
        # One queue per event loop: a queue is bound to the loop it first waited in (tests run
        # one hasher across several loops; an application has a single one).
        loop = asyncio.get_running_loop()
        if self._turns is None or self._turns_loop is not loop:
            self._turns, self._turns_loop = asyncio.Queue(), loop
            for _ in range(self._workers):
                self._turns.put_nowait(_Worker())
        return self._turns

    async def _submit(self, job: Callable[..., _R], *args: object) -> _R:
        loop = asyncio.get_running_loop()
        executor = self._pool()
        try:
            return await loop.run_in_executor(executor, job, *args)
        except BrokenProcessPool:
            # A worker died (the OOM killer, an operator's kill): the pool refuses all work
            # from then on. Start a fresh one, once, and give the job one more try there.
            logger.warning("a password-hashing worker died; starting new ones")
            if self._executor is executor:
                executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
            return await loop.run_in_executor(self._pool(), job, *args)

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self._workers, mp_context=_context(), initializer=_lower_priority
            )
        return self._executor


@functools.cache
def _context() -> BaseContext:
    """Workers are forked from a small server process started for them (not from this one,
    which has threads and an event loop), with this module already imported."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")  # Windows
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


# -- worker-process side ----------------------------------------------------------------------


def _lower_priority() -> None:
    """Run this (hashing) process at the lowest priority the OS offers."""
    if os.uname().sysname != "Linux":
        return
    try:
        # SCHED_IDLE: run only when nothing else wants the CPU.
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        os.setpriority(os.PRIO_PROCESS, 0, HASHING_NICENESS)
    except OSError:  # a sandbox may forbid it; hashing still works, just not deprioritised
        logger.debug("could not lower the hashing process's priority", exc_info=True)


@functools.lru_cache(maxsize=8)
def _argon2(parameters: Argon2Parameters) -> PasswordHasher:
    return PasswordHasher(
        time_cost=parameters.time_cost,
        memory_cost=parameters.memory_cost,
        parallelism=parameters.parallelism,
        type=Type.ID,
    )


def _hash(parameters: Argon2Parameters, password: str) -> str:
    return _argon2(parameters).hash(_secret(password))


def _verify(parameters: Argon2Parameters, hashed: str, password: str) -> bool:
    if hashed.startswith(_BCRYPT_PREFIXES):
        return _bcrypt_verify(hashed, password)
    try:
        return _argon2(parameters).verify(hashed, _secret(password))
    except (VerificationError, InvalidHashError, ValueError, TypeError):
        # VerifyMismatchError is a VerificationError; anything unreadable is a plain "no".
        return False


@functools.lru_cache(maxsize=8)
def _dummy_hash(parameters: Argon2Parameters) -> str:
    # Made on a worker's first burn and kept there.
    return _hash(parameters, _DUMMY_PASSWORD)


def _burn(parameters: Argon2Parameters, password: str) -> None:
    _verify(parameters, _dummy_hash(parameters), password)


def _secret(password: str) -> bytes:
    # UTF-8 as argon2-cffi and bcrypt use, but a lone surrogate (possible from some decoders)
    # must not turn a login into a 500: it is encoded as-is, the same way on hash and verify.
    return password.encode("utf-8", "surrogatepass")


def _bcrypt_verify(hashed: str, password: str) -> bool:
    try:
        return bcrypt.checkpw(_secret(password)[:_BCRYPT_MAX_BYTES], hashed.encode())
    except ValueError:  # malformed hash ("Invalid salt")
        return False

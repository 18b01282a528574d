"""Password hashing with argon2id, verifying legacy bcrypt hashes from the original FAROS (D22).

Hashing is CPU- and memory-bound (19 MiB and tens of milliseconds per call), so it runs in worker
processes at the lowest scheduling priority (hashing_worker.py), one fewer than there are cores:

- processes, not threads: a hashing thread shares the interpreter's lock with the event loop,
  and each time it takes the lock the loop waits for the scheduler to run a lowest-priority
  thread. The event loop itself talks to the workers over their pipes, so no thread of ours
  takes part at all (a process pool's feeder and manager threads would, for every job).
- the lowest priority: when the machine is busy, a login waits for the CPU rather than every
  other request (normal-priority hashing threads multiplied reads' p99: bench/README.md).
- a flood waits here, in a queue served caller by caller in turn (a user, a client address:
  the port's `caller`), each caller's own jobs first come, first served. One caller's backlog
  then delays another caller's job by one job per caller waiting, not by the whole backlog.
  A request that gives up leaves the queue without costing a hash, and while hashes queue
  each worker rests between them, so the flood slows logins down before it slows down
  everything else. The rest grows with how busy the event loop was
  during the last hash: a hash costs other requests even at the lowest priority (the cores'
  shared caches and clock), so logins yield to reads, but a burst of logins alone is not held
  back.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Final

from argon2.exceptions import InvalidHashError

from faros.adapters.security.hashing_worker import (
    Answer,
    Argon2Parameters,
    Job,
    argon2_hasher,
    decode_answer,
    frame,
    is_bcrypt,
)
from faros.domain.errors import ServiceUnavailable

# OWASP Password Storage Cheat Sheet, argon2id minimum: 19 MiB, 2 iterations, 1 lane.
OWASP_MEMORY_COST_KIB: Final = 19_456
OWASP_TIME_COST: Final = 2
OWASP_PARALLELISM: Final = 1

# While hashes queue up (a login flood), a worker rests this much of each hash's time before
# the next: hashing then takes at most half a core per worker while the event loop is idle,
# a fifth of one while it is busy throughout. A lone login never waits. Even at the lowest
# priority, what hashing costs reads follows its rate (bench/README.md, round 4).
HASHING_REST_RATIO: Final = 1.0
HASHING_BUSY_REST_RATIO: Final = 4.0

# `-c`, not `-m`: the package imports the module before `-m` could run it as __main__.
WORKER_COMMAND: Final = "from faros.adapters.security.hashing_worker import main; main()"

# glibc hands out blocks above 128 KiB as fresh mappings and unmaps them when freed, so every
# hash faulted in and zeroed its 19 MiB again. Below 32 MiB (glibc's largest threshold) they
# come from the heap, which keeps them: less CPU per hash (bench/README.md). Other C libraries
# ignore these.
_KEEP_HASHING_MEMORY: Final = {
    "MALLOC_MMAP_THRESHOLD_": str(32 * 1024 * 1024),
    "MALLOC_TRIM_THRESHOLD_": str(256 * 1024 * 1024),
}

logger = logging.getLogger("faros.security")


def default_workers() -> int:
    return max(1, (os.cpu_count() or 1) - 1)


class WorkerDied(ServiceUnavailable):
    """A hashing worker's pipe closed mid-job (twice in a row, the request answers 503)."""


@dataclass
class _Worker:
    """One worker process (started at its first job), and when it may hash next."""

    process: asyncio.subprocess.Process | None = None
    rest_until: float = 0.0

    async def ask(self, job: Job) -> Answer:
        if self.process is None or self.process.returncode is not None:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-c", WORKER_COMMAND,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                env={**os.environ, **_KEEP_HASHING_MEMORY},
            )  # fmt: skip
        stdin, stdout = self.process.stdin, self.process.stdout
        if stdin is None or stdout is None:  # both are PIPEs above
            raise RuntimeError("a hashing worker without pipes")
        try:
            stdin.write(frame(job))
            header = await stdout.readexactly(4)
            return decode_answer(await stdout.readexactly(int.from_bytes(header, "big")))
        except (asyncio.IncompleteReadError, ConnectionError) as died:
            self.stop()
            raise WorkerDied("a password-hashing worker died") from died

    def stop(self) -> None:
        """Close its stdin: the worker ends once it has answered the job at hand."""
        if self.process is not None and self.process.stdin is not None:
            self.process.stdin.close()
        self.process = None


@dataclass
class _Turns:
    """Who gets the next free worker: the waiting callers in rotation, each caller's own jobs
    in arrival order. A caller whose job was just served goes to the back of the rotation."""

    loop: asyncio.AbstractEventLoop
    idle: list[_Worker]
    # Insertion order is the rotation; a caller's entry lives while it has jobs waiting.
    lanes: OrderedDict[str, deque[asyncio.Future[_Worker]]] = field(default_factory=OrderedDict)
    waiting: int = 0

    async def take(self, caller: str) -> _Worker:
        if self.idle:  # a worker is idle only while nobody waits
            return self.idle.pop()
        turn: asyncio.Future[_Worker] = self.loop.create_future()
        lane = self.lanes.get(caller)
        if lane is None:
            lane = self.lanes[caller] = deque()
        lane.append(turn)
        self.waiting += 1
        try:
            return await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.give_back(turn.result(), caller)  # handed a worker as it gave up
            elif turn in lane:
                lane.remove(turn)
                self.waiting -= 1
                if not lane and self.lanes.get(caller) is lane:
                    del self.lanes[caller]
            raise

    def give_back(self, worker: _Worker, caller: str) -> None:
        """`worker` is free again after a job of `caller`'s: the next caller in turn gets it."""
        if caller in self.lanes:
            self.lanes.move_to_end(caller)
        while self.lanes:
            first, lane = next(iter(self.lanes.items()))
            turn = lane.popleft()
            self.waiting -= 1
            if lane:
                self.lanes.move_to_end(first)
            else:
                del self.lanes[first]
            if not turn.done():  # else its request gave up and is on its way out
                turn.set_result(worker)
                return
        self.idle.append(worker)


@dataclass
class _Workers:
    """The workers of one event loop, lent out in turns (`_Turns`)."""

    loop: asyncio.AbstractEventLoop
    all: list[_Worker]
    turns: _Turns = field(init=False)
    exchanges: set[asyncio.Task[Answer]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.turns = _Turns(self.loop, list(self.all))


class Argon2PasswordHasher:
    """`PasswordHasher` port: argon2id for new hashes, bcrypt accepted for verification only.

    `time_cost` / `memory_cost` / `parallelism` default to the OWASP values; tests may lower
    them. `workers` bounds how many hashes run at once: by default every core but one. Each
    worker process starts at its first job; `aclose()` stops them.
    """

    def __init__(
        self,
        *,
        time_cost: int = OWASP_TIME_COST,
        memory_cost: int = OWASP_MEMORY_COST_KIB,
        parallelism: int = OWASP_PARALLELISM,
        workers: int | None = None,
        rest_ratio: float = HASHING_REST_RATIO,
        busy_rest_ratio: float = HASHING_BUSY_REST_RATIO,
    ) -> None:
        self._parameters = Argon2Parameters(time_cost, memory_cost, parallelism)
        self._size = workers or default_workers()
        self._rest_ratio = rest_ratio
        self._busy_rest_ratio = busy_rest_ratio
        self._workers: _Workers | None = None

    async def hash(self, password: str, *, caller: str = "") -> str:
        hashed = await self._run(Job("hash", self._parameters, _secret(password)), caller)
        if not isinstance(hashed, str):
            raise TypeError(f"a hashing worker answered {hashed!r} to a hash")
        return hashed

    async def verify(self, hashed: str, password: str, *, caller: str = "") -> bool:
        job = Job("verify", self._parameters, _secret(password), hashed)
        return await self._run(job, caller) is True

    def needs_rehash(self, hashed: str) -> bool:
        """True unless `hashed` is argon2id with exactly this hasher's parameters."""
        if is_bcrypt(hashed):
            return True
        try:
            return argon2_hasher(self._parameters).check_needs_rehash(hashed)
        except (InvalidHashError, ValueError):
            return True

    async def burn(self, password: str, *, caller: str = "") -> None:
        await self._run(Job("burn", self._parameters, _secret(password)), caller)

    async def aclose(self) -> None:
        """Stop the worker processes (at application shutdown) and wait for them to end."""
        workers, self._workers = self._workers, None
        if workers is None:
            return
        processes = [w.process for w in workers.all if w.process is not None]
        for worker in workers.all:
            worker.stop()
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()

    def worker_pids(self) -> list[int]:
        """The worker processes running now (for operators and tests)."""
        if self._workers is None:
            return []
        running = (w.process for w in self._workers.all if w.process is not None)
        return [process.pid for process in running if process.returncode is None]

    async def _run(self, job: Job, caller: str) -> Answer:
        """`job`'s answer from a worker, once `caller`'s turn has come and the worker has
        rested (see HASHING_REST_RATIO)."""
        workers = self._pool()
        worker = await workers.turns.take(caller)
        try:
            rest = worker.rest_until - workers.loop.time()
            if rest > 0:
                await asyncio.sleep(rest)
        except BaseException:
            workers.turns.give_back(worker, caller)
            raise
        # Once sent, the job runs to its end even if the request gives up (shield): its answer
        # must be read off the pipe before the worker takes the next one.
        exchange = asyncio.ensure_future(self._exchange(workers, worker, job, caller))
        workers.exchanges.add(exchange)
        exchange.add_done_callback(workers.exchanges.discard)
        return await asyncio.shield(exchange)

    async def _exchange(self, workers: _Workers, worker: _Worker, job: Job, caller: str) -> Answer:
        started = workers.loop.time()
        # The event loop's thread: how much of the hash's time it spent serving others.
        loop_cpu_started = time.thread_time()
        try:
            try:
                return await worker.ask(job)
            except WorkerDied:
                # Killed (the OOM killer, an operator): a fresh worker takes the job, once.
                logger.warning("a password-hashing worker died; starting a new one")
                return await worker.ask(job)
        finally:
            finished = workers.loop.time()
            worker.rest_until = finished
            if workers.turns.waiting:
                worker.rest_until += self._rest(finished - started, loop_cpu_started)
            workers.turns.give_back(worker, caller)

    def _rest(self, took: float, loop_cpu_started: float) -> float:
        """How long a worker rests after a hash that took `took` seconds, while others wait."""
        busy = min(1.0, (time.thread_time() - loop_cpu_started) / took) if took > 0 else 0.0
        return took * (self._rest_ratio + (self._busy_rest_ratio - self._rest_ratio) * busy)

    def _pool(self) -> _Workers:
        # Processes and their pipes belong to one event loop (an application has one; a test
        # suite may run a hasher in several): a new loop gets workers of its own.
        loop = asyncio.get_running_loop()
        if self._workers is None or self._workers.loop is not loop:
            if self._workers is not None:
                for worker in self._workers.all:
                    if worker.process is not None and worker.process.returncode is None:
                        worker.process.kill()
            self._workers = _Workers(loop, [_Worker() for _ in range(self._size)])
        return self._workers


def _secret(password: str) -> bytes:
    # UTF-8 as argon2-cffi and bcrypt use, but a lone surrogate (possible from some decoders)
    # must not turn a login into a 500: it is encoded as-is, the same way on hash and verify.
    return password.encode("utf-8", "surrogatepass")

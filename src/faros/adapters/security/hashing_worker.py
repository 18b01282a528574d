"""The password-hashing worker: a process of its own, at the lowest scheduling priority.

It reads jobs from stdin and writes answers to stdout, one at a time, each a 4-byte length and
a msgpack body. The application talks to it from its event loop over the pipes (see
argon2_hasher.py): no thread of the application's takes part, so hashing never competes with
the event loop for the interpreter's lock.

Started by argon2_hasher.py as `python -c "...hashing_worker import main; main()"`.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from typing import BinaryIO, Final, Literal

import bcrypt
import msgspec
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# Linux's nice scale: 19 is the lowest priority.
HASHING_NICENESS: Final = 19

_BCRYPT_PREFIXES: Final = ("$2a$", "$2b$", "$2y$")
# bcrypt only ever reads 72 bytes; the original's bcrypt truncated silently, the `bcrypt` 5.x
# package raises instead, so we truncate to keep long legacy passwords verifying.
_BCRYPT_MAX_BYTES: Final = 72
# A fixed input for the dummy hash; its value is irrelevant, only its cost matters.
_DUMMY_SECRET: Final = b"faros-timing-equaliser"

logger = logging.getLogger("faros.security")


class Argon2Parameters(msgspec.Struct, frozen=True, array_like=True):
    time_cost: int
    memory_cost: int
    parallelism: int


class Job(msgspec.Struct, frozen=True, array_like=True):
    """`secret` is the password's bytes (encoded by the caller, lone surrogates included)."""

    kind: Literal["hash", "verify", "burn"]
    parameters: Argon2Parameters
    secret: bytes
    hashed: str = ""


Answer = str | bool | None

_job_decoder: Final = msgspec.msgpack.Decoder(Job)
_answer_decoder: Final[msgspec.msgpack.Decoder[str | bool | None]] = msgspec.msgpack.Decoder(Answer)
_encoder: Final = msgspec.msgpack.Encoder()


def frame(message: Job | Answer) -> bytes:
    body = _encoder.encode(message)
    return len(body).to_bytes(4, "big") + body


def decode_answer(body: bytes) -> Answer:
    return _answer_decoder.decode(body)


def is_bcrypt(hashed: str) -> bool:
    return hashed.startswith(_BCRYPT_PREFIXES)


@functools.lru_cache(maxsize=8)
def argon2_hasher(parameters: Argon2Parameters) -> PasswordHasher:
    return PasswordHasher(
        time_cost=parameters.time_cost,
        memory_cost=parameters.memory_cost,
        parallelism=parameters.parallelism,
        type=Type.ID,
    )


def perform(job: Job) -> Answer:
    if job.kind == "hash":
        return argon2_hasher(job.parameters).hash(job.secret)
    if job.kind == "verify":
        return _verify(job.parameters, job.hashed, job.secret)
    _verify(job.parameters, _dummy_hash(job.parameters), job.secret)  # "burn"
    return None


def _verify(parameters: Argon2Parameters, hashed: str, secret: bytes) -> bool:
    if is_bcrypt(hashed):
        try:
            return bcrypt.checkpw(secret[:_BCRYPT_MAX_BYTES], hashed.encode())
        except ValueError:  # malformed hash ("Invalid salt")
            return False
    try:
        return argon2_hasher(parameters).verify(hashed, secret)
    except (VerificationError, InvalidHashError, ValueError, TypeError):
        # VerifyMismatchError is a VerificationError; anything unreadable is a plain "no".
        return False


@functools.lru_cache(maxsize=8)
def _dummy_hash(parameters: Argon2Parameters) -> str:
    # Made at this worker's first burn and kept.
    return argon2_hasher(parameters).hash(_DUMMY_SECRET)


def _lower_priority() -> None:
    """Run at the lowest priority the OS offers: a login waits for the CPU, not everyone else."""
    if os.uname().sysname != "Linux":
        return
    try:
        # SCHED_IDLE: run only when nothing else wants the CPU.
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        os.setpriority(os.PRIO_PROCESS, 0, HASHING_NICENESS)
    except OSError:  # a sandbox may forbid it; hashing still works, just not deprioritised
        logger.debug("could not lower the hashing process's priority", exc_info=True)


def _read_exactly(source: BinaryIO, size: int) -> bytes | None:
    data = source.read(size)
    return data if len(data) == size else None


def main() -> None:
    _lower_priority()
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    # Until the application closes the pipe (or dies: the pipe closes with it).
    while (header := _read_exactly(source, 4)) is not None:
        body = _read_exactly(source, int.from_bytes(header, "big"))
        if body is None:
            return
        sink.write(frame(perform(_job_decoder.decode(body))))
        sink.flush()

"""Idempotent creates: the key is claimed and the answer kept in the write's own transaction.

A use case that accepts an `IdempotentCall` calls `claim_key` first in its unit of work and
`keep_answer` last, right before `commit()`: the key, its answer and the effect commit or roll
back together. The answer is rendered by the edge (`render`), so what is kept is exactly what
the first request was answered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from faros.domain.idempotency import (
    KEY_LIFETIME,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    IdempotencyRecord,
    IdempotentReplay,
    StoredResponse,
)
from faros.ports.unit_of_work import UnitOfWork

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class IdempotentCall(Generic[R]):
    """A request carrying a key. `fingerprint` is asked for when the key is claimed (an
    upload's is complete only once its stream was read); `render` turns the use case's result
    into the answer the edge sends."""

    key: str
    fingerprint: Callable[[], bytes]
    render: Callable[[R], StoredResponse]


async def claim_key(
    uow: UnitOfWork, user_id: int, call: IdempotentCall[R] | None, now: datetime
) -> None:
    """Take the key for this transaction, or end the request: `IdempotentReplay` (the same
    request was answered), `IdempotencyKeyReused` (another one was), `IdempotencyKeyInUse`."""
    if call is None:
        return
    claim = await uow.idempotency.claim(user_id, call.key, now)
    if claim.busy:
        raise IdempotencyKeyInUse()
    if claim.record is None:
        return
    if claim.record.fingerprint != call.fingerprint():
        raise IdempotencyKeyReused(call.key)
    raise IdempotentReplay(claim.record.response)


async def keep_answer(
    uow: UnitOfWork, user_id: int, call: IdempotentCall[R] | None, result: R, now: datetime
) -> None:
    """Store the answer to `result` under the claimed key, in the same transaction."""
    if call is None:
        return
    record = IdempotencyRecord(
        user_id=user_id,
        key=call.key,
        fingerprint=call.fingerprint(),
        response=call.render(result),
        created_at=now,
        expires_at=now + KEY_LIFETIME,
    )
    await uow.idempotency.add(record)

"""Idempotent creates in the use cases: the key, its answer and the effect are one transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest

from faros.domain.idempotency import (
    KEY_LIFETIME,
    IdempotencyKeyReused,
    IdempotentReplay,
    StoredResponse,
)
from faros.domain.services.idempotency import IdempotentCall
from faros.domain.tasks import TaskQuery, TaskView
from faros.domain.users import User

from .conftest import World


def call(
    key: str, fingerprint: bytes = b"f" * 32, *, fail: bool = False
) -> IdempotentCall[TaskView]:
    def render(view: TaskView) -> StoredResponse:
        if fail:
            # The edge failing to encode the answer, after the write, before the commit.
            raise RuntimeError("crash between the write and the commit")
        return StoredResponse(201, "application/json", f'{{"id":{view.id}}}'.encode(), "/x")

    return IdempotentCall(key, lambda: fingerprint, render)


async def create(world: World, owner: User, idempotency: IdempotentCall[TaskView]) -> TaskView:
    return await world.tasks.create(
        owner,
        title="t",
        description=None,
        priority="low",
        due_date=None,
        tags=[],
        completed=False,
        idempotency=idempotency,
    )


async def task_count(world: World, owner: User) -> int:
    return (await world.tasks.page(owner, TaskQuery())).total


async def test_a_crash_before_the_commit_keeps_neither_the_task_nor_the_key(
    world: World,
) -> None:
    owner = await world.user()
    with pytest.raises(RuntimeError):
        await create(world, owner, call("k", fail=True))
    assert await task_count(world, owner) == 0
    assert world.uow.store.idempotency == {}
    # So the retry performs the write.
    created = await create(world, owner, call("k"))
    assert await task_count(world, owner) == 1
    with pytest.raises(IdempotentReplay) as replay:
        await create(world, owner, call("k"))
    assert replay.value.response.body == f'{{"id":{created.id}}}'.encode()
    assert await task_count(world, owner) == 1


async def test_another_fingerprint_is_refused_and_expiry_frees_the_key(world: World) -> None:
    owner = await world.user()
    await create(world, owner, call("k"))
    with pytest.raises(IdempotencyKeyReused):
        await create(world, owner, call("k", b"g" * 32))
    world.clock.advance(KEY_LIFETIME - timedelta(seconds=1))
    with pytest.raises(IdempotentReplay):
        await create(world, owner, call("k"))
    world.clock.advance(timedelta(seconds=1))
    await create(world, owner, call("k", b"g" * 32))
    assert await task_count(world, owner) == 2


async def test_a_replay_writes_no_activity(world: World) -> None:
    owner = await world.user()
    await create(world, owner, call("k"))
    before = await world.activity.stats(owner)
    with pytest.raises(IdempotentReplay):
        await create(world, owner, call("k"))
    assert await world.activity.stats(owner) == before
    await create(world, owner, call("other"))
    assert await world.activity.stats(owner) != before  # the measure can see a change

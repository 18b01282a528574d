"""What only the in-memory unit of work needs: serialisation, misuse guards, the journal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from faros.adapters.memory import MemoryStore, MemoryUnitOfWorkFactory
from faros.adapters.memory.store import Transaction
from faros.domain.users import NewUser

AT = datetime(2030, 1, 1, tzinfo=UTC)


def _user(name: str) -> NewUser:
    return NewUser(name, f"{name}@example.com", "hash", AT)


async def test_units_of_work_on_one_store_run_one_at_a_time() -> None:
    factory = MemoryUnitOfWorkFactory()
    first_inside, release_first = asyncio.Event(), asyncio.Event()
    seen_by_second: list[bool] = []

    async def first() -> None:
        async with factory() as uow:
            await uow.users.add(_user("first"))
            first_inside.set()
            await release_first.wait()
            await uow.commit()

    async def second() -> None:
        await first_inside.wait()
        async with factory() as uow:
            seen_by_second.append(await uow.users.by_username("first") is not None)

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await first_inside.wait()
    await asyncio.sleep(0.01)
    assert seen_by_second == []  # still waiting: the first one holds the store
    release_first.set()
    await asyncio.gather(*tasks)
    assert seen_by_second == [True]  # and it then sees the committed row


async def test_nesting_fails_instead_of_waiting_forever() -> None:
    factory = MemoryUnitOfWorkFactory()
    async with factory() as outer:
        with pytest.raises(RuntimeError, match="cannot nest"):
            async with factory():
                pass
        await outer.users.add(_user("still-usable"))
        await outer.commit()
    async with factory() as uow:
        assert await uow.users.by_username("still-usable") is not None


async def test_repositories_and_commit_refuse_work_outside_the_block() -> None:
    factory = MemoryUnitOfWorkFactory()
    async with factory() as uow:
        pass
    with pytest.raises(RuntimeError):
        await uow.users.add(_user("late"))
    with pytest.raises(RuntimeError):
        await uow.commit()
    assert factory.store.users == {}


async def test_factories_share_the_store_they_are_given() -> None:
    store = MemoryStore()
    async with MemoryUnitOfWorkFactory(store)() as uow:
        await uow.users.add(_user("shared"))
        await uow.commit()
    async with MemoryUnitOfWorkFactory(store)() as uow:
        assert await uow.users.by_username("shared") is not None
    async with MemoryUnitOfWorkFactory()() as uow:
        assert await uow.users.by_username("shared") is None


async def test_ids_are_not_reused_after_a_rollback() -> None:
    # Like a database sequence: a rolled-back id stays spent.
    factory = MemoryUnitOfWorkFactory()
    async with factory() as uow:
        lost = await uow.users.add(_user("lost"))
    async with factory() as uow:
        kept = await uow.users.add(_user("kept"))
    assert kept.id > lost.id


def test_the_journal_restores_the_first_previous_value_of_each_key() -> None:
    tx = Transaction(MemoryStore())
    table: dict[str, int] = {"a": 1, "b": 2}
    tx.begin()
    tx.put(table, "a", 10)
    tx.put(table, "a", 20)
    tx.remove(table, "b")
    tx.put(table, "b", 30)
    tx.put(table, "c", 3)
    tx.remove(table, "missing")
    tx.rollback()
    assert table == {"a": 1, "b": 2}
    tx.put(table, "a", 5)
    tx.commit()
    tx.put(table, "a", 6)
    tx.end()
    assert table == {"a": 5, "b": 2}

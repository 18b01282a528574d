"""TaskRepository.list_page: every filter, every order, paging (API.md §3.3 with D12).

Six tasks of one owner, built so that every filter and order tells them apart and every sort
has ties (broken by id ascending). Titles are lower-case ASCII words, whose order is the same
in Python and in any database collation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from faros.domain.tasks import TaskQuery
from faros.domain.users import User
from faros.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

from .builders import add_task, add_user, comment, share

TODAY = date(2030, 6, 15)


def _at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2030, 6, day, hour, minute, second, tzinfo=UTC)


# name: title, description, completed, priority, due date, tags, created at
SEED: dict[str, tuple[Any, ...]] = {
    "t1": (
        "cherry",
        "Fresh FRUIT",
        False,
        "high",
        date(2030, 6, 10),
        ["food", "urgent"],
        _at(2, 23, 59, 59),
    ),
    "t2": ("apple", None, True, "low", date(2030, 6, 1), ["food"], _at(1, 10)),
    "t3": ("fig", "red\\ripe", False, "medium", None, [], _at(3, 12)),
    "t4": (
        "banana",
        "sweet fruit",
        False,
        "low",
        date(2030, 6, 20),
        ["urgent", "food", "x"],
        _at(2),
    ),
    "t5": ("elder", "100% natural_flavour", False, "high", TODAY, ["", "x"], _at(3)),
    "t6": ("cherry", None, False, "medium", None, ["urgent", "urgent"], _at(3, 12)),
}
ALL = list(SEED)


async def _seed(uow: UnitOfWork) -> tuple[User, dict[str, int], dict[int, str]]:
    owner = await add_user(uow)
    ids: dict[str, int] = {}
    for name, (title, description, completed, priority, due, tags, created) in SEED.items():
        task = await add_task(
            uow,
            owner,
            title,
            description=description,
            completed=completed,
            priority=priority,
            due_date=due,
            tags=tags,
            created_at=created,
        )
        ids[name] = task.id
    # Another user's tasks that would match every filter must never show up.
    stranger = await add_user(uow)
    for title, description, completed, priority, due, tags, created in SEED.values():
        await add_task(
            uow,
            stranger,
            title,
            description=description,
            completed=completed,
            priority=priority,
            due_date=due,
            tags=tags,
            created_at=created,
        )
    return owner, ids, {task_id: name for name, task_id in ids.items()}


async def _names(uow_factory: UnitOfWorkFactory, **query: Any) -> list[str]:
    async with uow_factory() as uow:
        owner, _, names = await _seed(uow)
        views, total = await uow.tasks.list_page(owner.id, TaskQuery(**query), TODAY)
        assert total == len(views)  # no paging in these queries
        return [names[view.id] for view in views]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ALL),
        ({"completed": True}, ["t2"]),
        ({"completed": False}, ["t1", "t3", "t4", "t5", "t6"]),
        ({"priority": "high"}, ["t1", "t5"]),
        ({"tags": []}, ALL),
        ({"tags": ["food"]}, ["t1", "t2", "t4"]),
        ({"tags": ["food", "urgent"]}, ["t1", "t4"]),
        ({"tags": ["urgent", "x"]}, ["t4"]),
        ({"tags": [""]}, ["t5"]),
        ({"tags": ["Food"]}, []),
        ({"overdue": True}, ["t1"]),
        ({"overdue": False}, ["t2", "t3", "t4", "t5", "t6"]),
        ({"search": ""}, ALL),
        ({"search": "fruit"}, ["t1", "t4"]),
        ({"search": "AN"}, ["t4"]),
        ({"search": "PPL"}, ["t2"]),
        ({"search": "cherry"}, ["t1", "t6"]),
        ({"search": "%"}, ["t5"]),
        ({"search": "l_f"}, ["t5"]),
        ({"search": "e_r"}, []),  # as a LIKE wildcard it would match "cherry"
        ({"search": "\\"}, ["t3"]),
        ({"search": "d\\r"}, ["t3"]),
        ({"created_after": date(2030, 6, 2)}, ["t1", "t3", "t4", "t5", "t6"]),
        ({"created_before": date(2030, 6, 2)}, ["t1", "t2", "t4"]),
        ({"created_after": date(2030, 6, 2), "created_before": date(2030, 6, 2)}, ["t1", "t4"]),
        ({"created_after": date.min, "created_before": date.max}, ALL),  # no overflow
        ({"due_after": date(2030, 6, 10)}, ["t1", "t4", "t5"]),
        ({"due_before": date(2030, 6, 10)}, ["t1", "t2"]),
        ({"due_after": TODAY, "due_before": TODAY}, ["t5"]),
        ({"completed": False, "priority": "high", "tags": ["x"]}, ["t5"]),
    ],
    ids=repr,
)
async def test_filters(
    uow_factory: UnitOfWorkFactory, query: dict[str, Any], expected: list[str]
) -> None:
    assert await _names(uow_factory, **query) == expected


@pytest.mark.parametrize(
    ("sort_by", "sort_order", "expected"),
    [
        (None, "asc", ALL),
        (None, "desc", ALL),  # the order only applies to a sort field
        ("id", "asc", ALL),
        ("id", "desc", ALL[::-1]),
        ("title", "asc", ["t2", "t4", "t1", "t6", "t5", "t3"]),
        ("title", "desc", ["t3", "t5", "t1", "t6", "t4", "t2"]),
        ("priority", "asc", ["t2", "t4", "t3", "t6", "t1", "t5"]),
        ("priority", "desc", ["t1", "t5", "t3", "t6", "t2", "t4"]),
        ("completed", "asc", ["t1", "t3", "t4", "t5", "t6", "t2"]),
        ("completed", "desc", ["t2", "t1", "t3", "t4", "t5", "t6"]),
        ("created_at", "asc", ["t2", "t4", "t1", "t5", "t3", "t6"]),
        ("created_at", "desc", ["t3", "t6", "t5", "t1", "t4", "t2"]),
        ("due_date", "asc", ["t2", "t1", "t5", "t4", "t3", "t6"]),
        ("due_date", "desc", ["t3", "t6", "t4", "t5", "t1", "t2"]),
    ],
)
async def test_orders_break_ties_by_id_ascending(
    uow_factory: UnitOfWorkFactory, sort_by: str | None, sort_order: str, expected: list[str]
) -> None:
    assert await _names(uow_factory, sort_by=sort_by, sort_order=sort_order) == expected


async def test_paging_counts_all_matches_and_slices_the_order(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        owner, _, names = await _seed(uow)

        async def page(**query: Any) -> tuple[list[str], int]:
            views, total = await uow.tasks.list_page(owner.id, TaskQuery(**query), TODAY)
            return [names[view.id] for view in views], total

        assert await page(sort_by="title", skip=2, limit=3) == (["t1", "t6", "t5"], 6)
        assert await page(skip=4, limit=10) == (["t5", "t6"], 6)
        assert await page(skip=6, limit=10) == ([], 6)
        assert await page(priority="high", limit=1) == (["t1"], 2)
        assert await page(priority="high", skip=1, limit=1) == (["t5"], 2)
        assert await page(search="no such text") == ([], 0)


async def test_listed_tasks_are_full_views(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner, ids, _ = await _seed(uow)
        friend = await add_user(uow)
        first = await uow.tasks.get_with_share(ids["t1"], owner.id)
        assert first is not None
        await share(uow, first.task, friend)
        note = await comment(uow, first.task, friend, "looks good")
        views, _ = await uow.tasks.list_page(owner.id, TaskQuery(limit=1), TODAY)
        assert views[0].id == ids["t1"]
        assert views[0].share_count == 1
        assert [(c.id, c.username) for c in views[0].comments] == [(note.id, friend.username)]
        assert (views[0].title, views[0].tags, views[0].due_date) == (
            "cherry",
            ["food", "urgent"],
            date(2030, 6, 10),
        )


async def test_only_the_owners_tasks_are_listed(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        owner, other = await add_user(uow), await add_user(uow)
        mine = await add_task(uow, owner)
        theirs = await add_task(uow, other)
        await share(uow, theirs, owner, "edit")  # shared tasks are not "my tasks"
        views, total = await uow.tasks.list_page(owner.id, TaskQuery(), TODAY)
        assert ([view.id for view in views], total) == ([mine.id], 1)

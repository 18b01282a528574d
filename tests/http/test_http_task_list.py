"""`GET /tasks`: filters, ordering and pages (§3.3 with D12 and D24)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pytestmark = pytest.mark.every_backend

PAST = "2001-01-01"
FUTURE = "2099-01-01"


async def listing(api: Any, who: Any, query: str = "") -> dict[str, Any]:
    response = await api.get(who, f"/tasks{query}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert list(body) == ["tasks", "total", "page", "pages"]
    return body


async def titles(api: Any, who: Any, query: str = "") -> list[str]:
    return [task["title"] for task in (await listing(api, who, query))["tasks"]]


async def test_lists_only_own_tasks_in_id_order(api: Any) -> None:
    owner = await api.user()
    other = await api.user()
    first = await api.task(owner, title="first")
    second = await api.task(owner, title="second")
    foreign = await api.task(other, title="foreign")
    await api.share(other, foreign["id"], owner, "edit")
    body = await listing(api, owner)
    assert [t["id"] for t in body["tasks"]] == [first["id"], second["id"]]
    assert body["tasks"][0] == first
    assert (body["total"], body["page"], body["pages"]) == (2, 1, 1)


async def test_empty_list_has_one_page(api: Any) -> None:
    owner = await api.user()
    body = await listing(api, owner)
    assert body == {"tasks": [], "total": 0, "page": 1, "pages": 1}


async def test_pagination_numbers(api: Any) -> None:
    owner = await api.user()
    created = [await api.task(owner, title=f"t{i}") for i in range(5)]
    ids = [t["id"] for t in created]
    body = await listing(api, owner, "?skip=0&limit=2")
    assert ([t["id"] for t in body["tasks"]], body["total"], body["page"], body["pages"]) == (
        ids[:2],
        5,
        1,
        3,
    )
    body = await listing(api, owner, "?skip=2&limit=2")
    assert ([t["id"] for t in body["tasks"]], body["page"]) == (ids[2:4], 2)
    body = await listing(api, owner, "?skip=1&limit=3")
    assert ([t["id"] for t in body["tasks"]], body["page"], body["pages"]) == (ids[1:4], 1, 2)
    body = await listing(api, owner, "?skip=7&limit=3")
    assert (body["tasks"], body["total"], body["page"], body["pages"]) == ([], 5, 3, 2)
    body = await listing(api, owner, "?limit=5")
    assert (body["pages"], len(body["tasks"])) == (1, 5)
    body = await listing(api, owner, "?limit=1&skip=4")
    assert ([t["id"] for t in body["tasks"]], body["page"], body["pages"]) == ([ids[4]], 5, 5)
    body = await listing(api, owner, "?limit=100")
    assert body["pages"] == 1
    # Repeated parameters: the last one wins.
    body = await listing(api, owner, "?limit=1&limit=2&skip=4&skip=0")
    assert ([t["id"] for t in body["tasks"]], body["page"], body["pages"]) == (ids[:2], 1, 3)


@pytest.mark.parametrize(
    ("query", "name", "kind"),
    [
        ("limit=0", "limit", "greater_than_equal"),
        ("limit=101", "limit", "less_than_equal"),
        ("limit=ten", "limit", "int_parsing"),
        ("skip=-1", "skip", "greater_than_equal"),
        ("completed=maybe", "completed", "bool_parsing"),
        ("overdue=sometimes", "overdue", "bool_parsing"),
        ("priority=HIGH", "priority", "literal_error"),
        ("sort_by=name", "sort_by", "literal_error"),
        ("sort_order=up", "sort_order", "literal_error"),
        ("created_after=yesterday", "created_after", "date_from_datetime_parsing"),
        ("due_before=2020-01-01T10:00:00", "due_before", "date_from_datetime_inexact"),
    ],
)
async def test_query_validation(api: Any, query: str, name: str, kind: str) -> None:
    owner = await api.user()
    response = await api.get(owner, f"/tasks?{query}")
    assert response.status_code == 422
    body = response.json()
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [(["query", name], kind)]
    assert body["detail"].startswith(f"{name}: ")


async def test_query_validation_messages(api: Any) -> None:
    owner = await api.user()
    response = await api.get(owner, "/tasks?limit=0&sort_by=name")
    errors = response.json()["errors"]
    expected = [
        {
            "type": "literal_error",
            "loc": ["query", "sort_by"],
            "msg": "Input should be 'id', 'title', 'priority', 'completed', 'created_at' or "
            "'due_date'",
            "input": "name",
            "ctx": {
                "expected": "'id', 'title', 'priority', 'completed', 'created_at' or 'due_date'"
            },
        },
        {
            "type": "greater_than_equal",
            "loc": ["query", "limit"],
            "msg": "Input should be greater than or equal to 1",
            "input": "0",
            "ctx": {"ge": 1},
        },
    ]

    def by_name(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(items, key=lambda e: str(e["loc"][1]))

    # Every error is reported; their order follows the query set, not the URL.
    assert by_name(errors) == by_name(expected)


async def test_limit_bounds_accepted(api: Any) -> None:
    owner = await api.user()
    for query in ("?limit=1", "?limit=100", "?skip=0"):
        assert (await api.get(owner, f"/tasks{query}")).status_code == 200


async def test_filter_completed_and_priority(api: Any) -> None:
    owner = await api.user()
    await api.task(owner, title="done-high", completed=True, priority="high")
    await api.task(owner, title="open-high", priority="high")
    await api.task(owner, title="open-low", priority="low")
    assert await titles(api, owner, "?completed=true") == ["done-high"]
    assert await titles(api, owner, "?completed=false") == ["open-high", "open-low"]
    for truthy in ("1", "yes", "on", "t", "Y", "TRUE"):
        assert await titles(api, owner, f"?completed={truthy}") == ["done-high"]
    for falsy in ("0", "no", "off", "f", "n"):
        assert await titles(api, owner, f"?completed={falsy}") == ["open-high", "open-low"]
    assert await titles(api, owner, "?priority=high") == ["done-high", "open-high"]
    assert await titles(api, owner, "?priority=high&completed=false") == ["open-high"]
    body = await listing(api, owner, "?priority=medium")
    assert (body["total"], body["pages"]) == (0, 1)


async def test_filter_tags_and_semantics(api: Any) -> None:
    owner = await api.user()
    await api.task(owner, title="both", tags=["work", "urgent"])
    await api.task(owner, title="work", tags=["work"])
    await api.task(owner, title="urgent", tags=["urgent", "home"])
    await api.task(owner, title="none")
    assert await titles(api, owner, "?tags=work") == ["both", "work"]
    assert await titles(api, owner, "?tags=work,urgent") == ["both"]
    assert await titles(api, owner, "?tags=%20work%20,%20,urgent%20,") == ["both"]
    assert await titles(api, owner, "?tags=Work") == []
    every = ["both", "work", "urgent", "none"]
    assert await titles(api, owner, "?tags=") == every
    assert await titles(api, owner, "?tags=,") == every
    assert await titles(api, owner, "?tags=%20,%20") == every
    # Repeated parameter: the last one wins.
    assert await titles(api, owner, "?tags=urgent&tags=work") == ["both", "work"]


async def test_filter_overdue(api: Any) -> None:
    owner = await api.user()
    await api.task(owner, title="late", due_date=PAST)
    await api.task(owner, title="late-done", due_date=PAST, completed=True)
    await api.task(owner, title="later", due_date=FUTURE)
    await api.task(owner, title="undated")
    assert await titles(api, owner, "?overdue=true") == ["late"]
    # D12: overdue=false returns the tasks that are not overdue.
    assert await titles(api, owner, "?overdue=false") == ["late-done", "later", "undated"]
    assert await titles(api, owner) == ["late", "late-done", "later", "undated"]


async def test_filter_search(api: Any) -> None:
    owner = await api.user()
    await api.task(owner, title="Buy MILK", description=None)
    await api.task(owner, title="Other", description="oat milk please")
    await api.task(owner, title="100% done")
    await api.task(owner, title="100 percent")
    await api.task(owner, title="snake_case")
    await api.task(owner, title="snakeXcase", tags=["milk"])
    assert await titles(api, owner, "?search=milk") == ["Buy MILK", "Other"]
    assert await titles(api, owner, "?search=MiLk") == ["Buy MILK", "Other"]
    # D12: LIKE wildcards are literal.
    assert await titles(api, owner, "?search=%25") == ["100% done"]
    assert await titles(api, owner, "?search=e_c") == ["snake_case"]
    assert len(await titles(api, owner, "?search=")) == 6
    assert await titles(api, owner, "?search=nothing-like-this") == []


async def test_filter_created_dates(api: Any) -> None:
    owner = await api.user()
    task = await api.task(owner, title="today")
    created = dt.date.fromisoformat(task["created_at"][:10])
    yesterday, tomorrow = created - dt.timedelta(days=1), created + dt.timedelta(days=1)
    assert await titles(api, owner, f"?created_after={created}") == ["today"]
    assert await titles(api, owner, f"?created_after={yesterday}") == ["today"]
    assert await titles(api, owner, f"?created_after={tomorrow}") == []
    assert await titles(api, owner, f"?created_before={tomorrow}") == ["today"]
    assert await titles(api, owner, f"?created_before={yesterday}") == []
    # A midnight datetime is the same date.
    assert await titles(api, owner, f"?created_after={tomorrow}T00:00:00") == []


async def test_created_before_includes_that_whole_day(api: Any) -> None:
    """FAROS includes the named day (`created_at < date + 1 day`, §11 #25, see the README):
    a task created today is found with `created_before=<today>` but not `<yesterday>`."""
    owner = await api.user()
    task = await api.task(owner, title="today")
    created = dt.date.fromisoformat(task["created_at"][:10])
    assert await titles(api, owner, f"?created_before={created}") == ["today"]
    yesterday = created - dt.timedelta(days=1)
    assert await titles(api, owner, f"?created_before={yesterday}") == []


async def test_filter_due_dates(api: Any) -> None:
    owner = await api.user()
    await api.task(owner, title="jan", due_date="2030-01-10")
    await api.task(owner, title="feb", due_date="2030-02-10")
    await api.task(owner, title="undated")
    assert await titles(api, owner, "?due_after=2030-01-10") == ["jan", "feb"]
    assert await titles(api, owner, "?due_after=2030-01-11") == ["feb"]
    assert await titles(api, owner, "?due_before=2030-02-10") == ["jan", "feb"]
    assert await titles(api, owner, "?due_before=2030-02-09") == ["jan"]
    assert await titles(api, owner, "?due_after=2030-01-01&due_before=2030-01-31") == ["jan"]


async def test_sorting(api: Any) -> None:
    owner = await api.user()
    specs = [
        ("charlie", "high", False, "2030-03-01"),
        ("alpha", "low", True, None),
        ("bravo", "medium", False, "2030-01-01"),
        ("delta", "low", False, "2030-02-01"),
        ("echo", "high", True, None),
    ]
    made = {}
    for title, priority, completed, due in specs:
        made[title] = await api.task(
            owner, title=title, priority=priority, completed=completed, due_date=due
        )
    order = list(made)  # creation (= id) order

    async def sorted_titles(field: str, direction: str | None = None) -> list[str]:
        query = f"?sort_by={field}" + (f"&sort_order={direction}" if direction else "")
        return await titles(api, owner, query)

    assert await sorted_titles("id") == order
    assert await sorted_titles("id", "desc") == list(reversed(order))
    assert await sorted_titles("title") == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert await sorted_titles("title", "asc") == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert await sorted_titles("title", "desc") == ["echo", "delta", "charlie", "bravo", "alpha"]
    # D12: severity order, id as tie-breaker.
    assert await sorted_titles("priority") == ["alpha", "delta", "bravo", "charlie", "echo"]
    by_priority_desc = await sorted_titles("priority", "desc")
    assert by_priority_desc[2] == "bravo"
    assert set(by_priority_desc[:2]) == {"charlie", "echo"}
    assert set(by_priority_desc[3:]) == {"alpha", "delta"}
    assert await sorted_titles("completed") == ["charlie", "bravo", "delta", "alpha", "echo"]
    completed_desc = await sorted_titles("completed", "desc")
    assert set(completed_desc[:2]) == {"alpha", "echo"}
    assert await sorted_titles("created_at") == order
    assert await sorted_titles("created_at", "desc") == list(reversed(order))
    # Null due dates last ascending, first descending.
    assert await sorted_titles("due_date") == ["bravo", "delta", "charlie", "alpha", "echo"]
    due_desc = await sorted_titles("due_date", "desc")
    assert set(due_desc[:2]) == {"alpha", "echo"}
    assert due_desc[2:] == ["charlie", "delta", "bravo"]
    # sort_order alone changes nothing.
    assert await titles(api, owner, "?sort_order=desc") == order


async def test_sorting_ties_are_broken_by_id(api: Any) -> None:
    owner = await api.user()
    made = [await api.task(owner, title="same", priority="low") for _ in range(4)]
    ids = [t["id"] for t in made]
    for field in ("title", "priority", "completed", "due_date"):
        body = await listing(api, owner, f"?sort_by={field}")
        assert [t["id"] for t in body["tasks"]] == ids, field
        # Pages of a tied order never repeat or skip a task.
        paged = []
        for skip in range(0, 4, 2):
            page = await listing(api, owner, f"?sort_by={field}&limit=2&skip={skip}")
            paged += [t["id"] for t in page["tasks"]]
        assert paged == ids
        desc = [
            t["id"]
            for t in (await listing(api, owner, f"?sort_by={field}&sort_order=desc"))["tasks"]
        ]
        assert desc in (ids, list(reversed(ids))), field


async def test_combined_filters_count_before_paging(api: Any) -> None:
    owner = await api.user()
    for index in range(5):
        await api.task(owner, title=f"match {index}", priority="high", tags=["x"])
    await api.task(owner, title="match but low", priority="low", tags=["x"])
    body = await listing(api, owner, "?priority=high&tags=x&search=match&limit=2&skip=2")
    assert [t["title"] for t in body["tasks"]] == ["match 2", "match 3"]
    assert (body["total"], body["page"], body["pages"]) == (5, 2, 3)

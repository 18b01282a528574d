"""`parse_query` and `path_int`: lax query coercions, last-wins, `["query", name]` locations."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

import pytest
from litestar.datastructures import MultiDict
from msgspec import Meta, Struct

from faros.domain.errors import NotFound, TaskNotFound
from faros.domain.ids import INT32_MAX
from faros.entrypoints.http.validation import (
    RequestValidationError,
    parse_query,
    path_int,
)


class ListQuery(Struct):
    completed: bool | None = None
    priority: Literal["low", "medium", "high"] | None = None
    tags: str | None = None
    created_after: dt.date | None = None
    sort_order: Literal["asc", "desc"] = "asc"
    skip: Annotated[int, Meta(ge=0)] = 0
    limit: Annotated[int, Meta(ge=1, le=100)] = 100


class SearchQuery(Struct):
    query: Annotated[str, Meta(min_length=1, max_length=100)]
    limit: Annotated[int, Meta(ge=1, le=50)] = 10


def query_errors(target: Any, params: Any) -> list[dict[str, Any]]:
    with pytest.raises(RequestValidationError) as caught:
        parse_query(target, params)
    return [dict(e) for e in caught.value.errors]


def test_defaults_when_nothing_is_given() -> None:
    assert parse_query(ListQuery, b"") == ListQuery()
    assert parse_query(ListQuery, {}) == ListQuery()


def test_values_are_coerced_from_strings() -> None:
    query = parse_query(
        ListQuery,
        b"completed=true&priority=high&tags=a,b&created_after=2020-01-02&skip=20&limit=10",
    )
    assert query == ListQuery(
        completed=True,
        priority="high",
        tags="a,b",
        created_after=dt.date(2020, 1, 2),
        skip=20,
        limit=10,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True), ("false", False), ("1", True), ("0", False), ("yes", True),
        ("no", False), ("on", True), ("off", False), ("t", True), ("f", False),
        ("y", True), ("n", False), ("TRUE", True), ("No", False), ("T", True),
    ],
)  # fmt: skip
def test_lax_query_booleans(raw: str, expected: bool) -> None:
    assert parse_query(ListQuery, {"completed": raw}).completed is expected


def test_query_bool_parsing_error() -> None:
    assert query_errors(ListQuery, b"completed=maybe") == [
        {
            "type": "bool_parsing",
            "loc": ["query", "completed"],
            "msg": "Input should be a valid boolean, unable to interpret input",
            "input": "maybe",
        }
    ]


def test_last_occurrence_wins_for_every_input_form() -> None:
    assert parse_query(ListQuery, b"tags=a&tags=b").tags == "b"
    assert parse_query(ListQuery, MultiDict([("tags", "a"), ("tags", "b")])).tags == "b"
    assert parse_query(ListQuery, [("limit", "5"), ("limit", "7")]).limit == 7


def test_percent_decoding_and_plus_as_space() -> None:
    assert parse_query(ListQuery, b"tags=a%20b+c%2Cd").tags == "a b c,d"


def test_blank_values_are_kept_from_the_raw_query_string() -> None:
    # As the original: `limit=` is an int_parsing error, not "use the default".
    assert query_errors(ListQuery, b"limit=") == [
        {
            "type": "int_parsing",
            "loc": ["query", "limit"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "",
        }
    ]
    assert parse_query(ListQuery, b"tags=").tags == ""


def test_required_query_parameter_missing_has_null_input() -> None:
    assert query_errors(SearchQuery, b"limit=5") == [
        {"type": "missing", "loc": ["query", "query"], "msg": "Field required", "input": None}
    ]


def test_query_min_length() -> None:
    errors = query_errors(SearchQuery, b"query=")
    assert errors[0]["type"] == "string_too_short"
    assert errors[0]["loc"] == ["query", "query"]


def test_all_query_errors_at_once() -> None:
    errors = query_errors(
        ListQuery, b"priority=urgent&skip=-1&limit=500&created_after=2020-01-01T10:00"
    )
    assert [(e["type"], e["loc"]) for e in errors] == [
        ("literal_error", ["query", "priority"]),
        ("date_from_datetime_inexact", ["query", "created_after"]),
        ("greater_than_equal", ["query", "skip"]),
        ("less_than_equal", ["query", "limit"]),
    ]
    assert errors[0]["msg"] == "Input should be 'low', 'medium' or 'high'"


def test_query_int_is_plain_digits() -> None:
    assert parse_query(ListQuery, {"limit": "5"}).limit == 5
    for other in (" 5 ", "5.0", "5.5", "+5", "5_0"):
        assert query_errors(ListQuery, {"limit": other})[0]["type"] == "int_parsing", other


def test_unknown_query_parameters_are_ignored() -> None:
    assert parse_query(ListQuery, b"foo=bar&limit=3") == ListQuery(limit=3)


# --- path ids -------------------------------------------------------------------------------


def test_path_int_parses() -> None:
    assert path_int("task_id", "42") == 42
    assert path_int("task_id", "-3") == -3


@pytest.mark.parametrize("raw", ["abc", "bulk", "1.5", "", "1e3"])
def test_path_int_rejects_non_integers(raw: str) -> None:
    with pytest.raises(RequestValidationError) as caught:
        path_int("task_id", raw)
    assert caught.value.errors == [
        {
            "type": "int_parsing",
            "loc": ["path", "task_id"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": raw,
        }
    ]


def test_ids_beyond_int32_are_not_found_instead_of_overflowing() -> None:
    assert path_int("task_id", str(INT32_MAX)) == INT32_MAX
    with pytest.raises(TaskNotFound) as caught:
        path_int("task_id", str(INT32_MAX + 1), not_found=TaskNotFound)
    assert caught.value.task_id == INT32_MAX + 1
    with pytest.raises(NotFound) as plain:
        path_int("file_id", "99999999999999999999")
    assert plain.value.message == "Not Found"


@pytest.mark.parametrize(
    "raw", ["a=1&&b=2", "a", "=x", "a=%20b+c&a=2", "t=%E2%82%AC", "x=%zz", "k%3Dv=1", ""]
)
def test_raw_query_strings_parse_like_parse_qsl_with_blank_values(raw: str) -> None:
    class Anything(Struct):
        a: str | None = None
        b: str | None = None
        t: str | None = None
        x: str | None = None

    expected = dict(parse_qsl(raw, keep_blank_values=True))
    parsed = parse_query(Anything, raw.encode())
    assert parsed == Anything(**{k: v for k, v in expected.items() if k in {"a", "b", "t", "x"}})

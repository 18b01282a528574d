"""`decode_body`: the contract's 422 items (§1.7 + D7a), fast path vs walker, strip, UNSET."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
import pytest
from msgspec import UNSET, Meta, Struct, UnsetType

from faros.entrypoints.http.validation import (
    RequestValidationError,
    decode_body,
    describe_error,
)

STRIP = {"strip": True}
Title = Annotated[str, Meta(min_length=1, max_length=200, extra=STRIP)]
Description = Annotated[str, Meta(max_length=1000, extra=STRIP)]
Tag = Annotated[str, Meta(max_length=5, extra=STRIP)]


class Register(Struct):
    username: Annotated[str, Meta(min_length=3, max_length=50)]
    email: Annotated[str, Meta(max_length=100)]
    password: Annotated[str, Meta(min_length=8, max_length=100)]


class TaskCreate(Struct):
    title: Title
    description: Description | None = None
    priority: Literal["low", "medium", "high"] = "medium"
    due_date: dt.date | None = None
    tags: list[Tag] = msgspec.field(default_factory=list)
    completed: bool = False


class TaskUpdate(Struct):
    title: Title | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    completed: bool | UnsetType = UNSET
    priority: Literal["low", "medium", "high"] | UnsetType = UNSET
    due_date: dt.date | UnsetType | None = UNSET
    tags: list[Tag] | UnsetType = UNSET


class Bulk(Struct):
    task_ids: Annotated[list[int], Meta(min_length=1, max_length=3)]
    updates: TaskUpdate


class Bounded(Struct):
    count: Annotated[int, Meta(ge=1, le=10)] = 1
    initial: Annotated[str, Meta(min_length=1, max_length=1)] = "x"
    code: Annotated[str, Meta(pattern="^[a-z]+$")] = "a"
    when: dt.datetime | None = None
    share: Literal["view", "edit"] = "view"


def errors_of(target: Any, raw: bytes, **kwargs: Any) -> list[dict[str, Any]]:
    with pytest.raises(RequestValidationError) as caught:
        decode_body(target, raw, **kwargs)
    return [dict(e) for e in caught.value.errors]


def only_error(target: Any, raw: bytes) -> dict[str, Any]:
    errors = errors_of(target, raw)
    assert len(errors) == 1, errors
    return errors[0]


# --- success --------------------------------------------------------------------------------


def test_valid_body_decodes_with_defaults() -> None:
    task = decode_body(TaskCreate, b'{"title":"Write","due_date":"2020-01-15","notes":"x"}')
    assert task == TaskCreate(title="Write", due_date=dt.date(2020, 1, 15))


def test_strip_trims_fields_and_each_tag_on_the_fast_path() -> None:
    task = decode_body(TaskCreate, b'{"title":"  Write  ","description":" d ","tags":[" a ","b"]}')
    assert (task.title, task.description, task.tags) == ("Write", "d", ["a", "b"])


def test_strip_happens_before_max_length() -> None:
    # 200 characters after trimming, 204 before: msgspec's own check fails, the walker accepts.
    title = "  " + "x" * 200 + "  "
    task = decode_body(TaskCreate, msgspec.json.encode({"title": title}))
    assert task.title == "x" * 200


def test_whitespace_only_title_is_too_short_and_quotes_the_untrimmed_input() -> None:
    assert only_error(TaskCreate, b'{"title":"   "}') == {
        "type": "string_too_short",
        "loc": ["body", "title"],
        "msg": "String should have at least 1 character",
        "input": "   ",
        "ctx": {"min_length": 1},
    }


def test_patch_distinguishes_absent_from_null() -> None:
    update = decode_body(TaskUpdate, b'{"due_date":null,"description":null}')
    assert update.due_date is None
    assert update.description is None
    assert update.title is UNSET
    assert update.tags is UNSET
    assert decode_body(TaskUpdate, b"{}") == TaskUpdate()


def test_patch_trims_like_create() -> None:
    update = decode_body(TaskUpdate, b'{"title":" t ","tags":[" x "]}')
    assert (update.title, update.tags) == ("t", ["x"])


def test_null_for_a_non_nullable_field_is_a_type_error() -> None:
    errors = errors_of(TaskUpdate, b'{"title":null,"completed":null,"priority":null,"tags":null}')
    assert [(e["type"], e["loc"], e["msg"]) for e in errors] == [
        ("string_type", ["body", "title"], "Input should be a valid string"),
        ("bool_type", ["body", "completed"], "Input should be a valid boolean"),
        ("literal_error", ["body", "priority"], "Input should be 'low', 'medium' or 'high'"),
        ("list_type", ["body", "tags"], "Input should be a valid list"),
    ]


def test_json_booleans_only() -> None:
    # The clients send JSON booleans; words and numbers are refused (README, "Validation").
    assert decode_body(TaskCreate, b'{"title":"t","completed":true}').completed is True
    errors = errors_of(TaskCreate, b'{"title":"t","completed":"true"}')
    assert [(e["type"], e["input"]) for e in errors] == [("bool_parsing", "true")]
    assert only_error(TaskCreate, b'{"title":"t","completed":1}')["type"] == "bool_parsing"


def test_json_integers_only() -> None:
    errors = errors_of(Bulk, b'{"task_ids":[1,"2",3.5,true],"updates":{}}')
    assert [(e["type"], e["loc"]) for e in errors] == [
        ("int_parsing", ["body", "task_ids", 1]),
        ("int_type", ["body", "task_ids", 2]),
        ("int_type", ["body", "task_ids", 3]),
    ]


def test_a_number_with_a_zero_fraction_is_an_integer_as_json_schema_says() -> None:
    bulk = decode_body(Bulk, b'{"task_ids":[1,3.0,2e1],"updates":{"title":"t"}}')
    assert bulk.task_ids == [1, 3, 20]
    assert all(type(task_id) is int for task_id in bulk.task_ids)


def test_date_accepts_midnight_datetimes() -> None:
    task = decode_body(TaskCreate, b'{"title":"t","due_date":"2020-01-01T00:00:00"}')
    assert task.due_date == dt.date(2020, 1, 1)
    task = decode_body(TaskCreate, b'{"title":"t","due_date":"2020-01-01T00:00:00Z"}')
    assert task.due_date == dt.date(2020, 1, 1)


def test_datetime_accepts_a_plain_date_and_offsets() -> None:
    value = decode_body(Bounded, b'{"when":"2020-01-02"}')
    assert value.when == dt.datetime(2020, 1, 2)
    value = decode_body(Bounded, b'{"when":"2020-01-02T03:04:05.5+02:00"}')
    assert value.when == dt.datetime(
        2020, 1, 2, 3, 4, 5, 500000, tzinfo=dt.timezone(dt.timedelta(hours=2))
    )


def test_bare_array_body() -> None:
    assert decode_body(list[str], b'["a","b"]') == ["a", "b"]
    assert decode_body(list[str], b"[]") == []


def test_nested_struct_decodes() -> None:
    bulk = decode_body(Bulk, b'{"task_ids":[1],"updates":{"priority":"high","title":" t "}}')
    assert bulk.updates == TaskUpdate(priority="high", title="t")


# --- the error table, one type/msg pair per test --------------------------------------------


def test_missing_field_quotes_the_enclosing_object() -> None:
    body = {"username": "alice", "email": "a@x"}
    assert only_error(Register, msgspec.json.encode(body)) == {
        "type": "missing",
        "loc": ["body", "password"],
        "msg": "Field required",
        "input": body,
    }


@pytest.mark.parametrize("raw", [b"", b"null", b"  "])
def test_missing_body(raw: bytes) -> None:
    assert only_error(Register, raw) == {
        "type": "missing",
        "loc": ["body"],
        "msg": "Field required",
        "input": None,
    }


def test_string_too_short_plural() -> None:
    error = only_error(Register, b'{"username":"al","email":"e","password":"longenough"}')
    assert error["msg"] == "String should have at least 3 characters"
    assert error["ctx"] == {"min_length": 3}
    assert error["input"] == "al"


def test_string_too_long() -> None:
    error = only_error(Bounded, b'{"initial":"ab"}')
    assert error == {
        "type": "string_too_long",
        "loc": ["body", "initial"],
        "msg": "String should have at most 1 character",
        "input": "ab",
        "ctx": {"max_length": 1},
    }
    error = only_error(TaskCreate, msgspec.json.encode({"title": "x" * 201}))
    assert error["msg"] == "String should have at most 200 characters"
    assert error["ctx"] == {"max_length": 200}


def test_string_pattern_mismatch() -> None:
    assert only_error(Bounded, b'{"code":"A1"}') == {
        "type": "string_pattern_mismatch",
        "loc": ["body", "code"],
        "msg": "String should match pattern '^[a-z]+$'",
        "input": "A1",
        "ctx": {"pattern": "^[a-z]+$"},
    }


def test_string_type() -> None:
    error = only_error(TaskCreate, b'{"title":5}')
    assert (error["type"], error["msg"], error["input"]) == (
        "string_type",
        "Input should be a valid string",
        5,
    )
    assert "ctx" not in error


def test_literal_error_three_values() -> None:
    assert only_error(TaskCreate, b'{"title":"t","priority":"urgent"}') == {
        "type": "literal_error",
        "loc": ["body", "priority"],
        "msg": "Input should be 'low', 'medium' or 'high'",
        "input": "urgent",
        "ctx": {"expected": "'low', 'medium' or 'high'"},
    }


def test_literal_error_two_values() -> None:
    error = only_error(Bounded, b'{"share":"admin"}')
    assert error["msg"] == "Input should be 'view' or 'edit'"
    assert error["ctx"] == {"expected": "'view' or 'edit'"}


def test_bool_parsing() -> None:
    assert only_error(TaskCreate, b'{"title":"t","completed":"maybe"}') == {
        "type": "bool_parsing",
        "loc": ["body", "completed"],
        "msg": "Input should be a valid boolean, unable to interpret input",
        "input": "maybe",
    }
    assert only_error(TaskCreate, b'{"title":"t","completed":2}')["type"] == "bool_parsing"


def test_int_parsing() -> None:
    assert only_error(Bulk, b'{"task_ids":["one"],"updates":{}}') == {
        "type": "int_parsing",
        "loc": ["body", "task_ids", 0],
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": "one",
    }


def test_int_type() -> None:
    errors = errors_of(Bulk, b'{"task_ids":[null,1.5],"updates":{}}')
    assert [(e["type"], e["loc"], e["msg"]) for e in errors] == [
        ("int_type", ["body", "task_ids", 0], "Input should be a valid integer"),
        ("int_type", ["body", "task_ids", 1], "Input should be a valid integer"),
    ]


def test_list_type_for_a_string_and_for_an_object_bare_body() -> None:
    error = only_error(TaskCreate, b'{"title":"t","tags":"a,b"}')
    assert (error["type"], error["loc"], error["msg"]) == (
        "list_type",
        ["body", "tags"],
        "Input should be a valid list",
    )
    assert only_error(list[str], b'{"tags":["a"]}') == {
        "type": "list_type",
        "loc": ["body"],
        "msg": "Input should be a valid list",
        "input": {"tags": ["a"]},
    }


def test_bare_array_item_errors_are_indexed() -> None:
    assert only_error(list[str], b'["a",1]') == {
        "type": "string_type",
        "loc": ["body", 1],
        "msg": "Input should be a valid string",
        "input": 1,
    }


def test_list_too_short() -> None:
    assert only_error(Bulk, b'{"task_ids":[],"updates":{}}') == {
        "type": "too_short",
        "loc": ["body", "task_ids"],
        "msg": "List should have at least 1 item after validation, not 0",
        "input": [],
        "ctx": {"field_type": "List", "min_length": 1, "actual_length": 0},
    }


def test_list_too_long() -> None:
    error = only_error(Bulk, b'{"task_ids":[1,2,3,4],"updates":{}}')
    assert error["type"] == "too_long"
    assert error["msg"] == "List should have at most 3 items after validation, not 4"
    assert error["ctx"] == {"field_type": "List", "max_length": 3, "actual_length": 4}


def test_greater_than_equal_and_less_than_equal() -> None:
    assert only_error(Bounded, b'{"count":0}') == {
        "type": "greater_than_equal",
        "loc": ["body", "count"],
        "msg": "Input should be greater than or equal to 1",
        "input": 0,
        "ctx": {"ge": 1},
    }
    assert only_error(Bounded, b'{"count":11}') == {
        "type": "less_than_equal",
        "loc": ["body", "count"],
        "msg": "Input should be less than or equal to 10",
        "input": 11,
        "ctx": {"le": 10},
    }


@pytest.mark.parametrize(
    "value", ["tomorrow", "2020-13-01", "2020-02-30", "2020/01/01", "20x0-01-01", "2020-01-01x"]
)
def test_date_from_datetime_parsing(value: str) -> None:
    # The reason is the standard library's (`date.fromisoformat`), not pydantic's wording.
    error = only_error(TaskCreate, msgspec.json.encode({"title": "t", "due_date": value}))
    reason = error["ctx"]["error"]
    assert reason
    assert error == {
        "type": "date_from_datetime_parsing",
        "loc": ["body", "due_date"],
        "msg": f"Input should be a valid date or datetime, {reason}",
        "input": value,
        "ctx": {"error": reason},
    }


def test_dates_are_not_timestamps() -> None:
    assert only_error(TaskCreate, b'{"title":"t","due_date":1577836800}')["type"] == "date_type"


def test_date_from_datetime_inexact() -> None:
    assert only_error(TaskCreate, b'{"title":"t","due_date":"2020-01-01T10:00:00"}') == {
        "type": "date_from_datetime_inexact",
        "loc": ["body", "due_date"],
        "msg": "Datetimes provided to dates should have zero time - e.g. be exact dates",
        "input": "2020-01-01T10:00:00",
    }


def test_datetime_from_date_parsing() -> None:
    error = only_error(Bounded, b'{"when":"soon"}')
    assert error == {
        "type": "datetime_from_date_parsing",
        "loc": ["body", "when"],
        "msg": "Input should be a valid datetime or date, Invalid isoformat string: 'soon'",
        "input": "soon",
        "ctx": {"error": "Invalid isoformat string: 'soon'"},
    }


@pytest.mark.parametrize(
    ("raw", "position", "reason"),
    [
        (b'{"title": }', 10, "Expecting value"),
        (b'{"title": "x",}', 14, "Expecting property name enclosed in double quotes"),
        (b"{", 1, "Expecting property name enclosed in double quotes"),
    ],
)
def test_json_invalid(raw: bytes, position: int, reason: str) -> None:
    assert only_error(TaskCreate, raw) == {
        "type": "json_invalid",
        "loc": ["body", position],
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": reason},
    }


@pytest.mark.parametrize("raw", [b"[1,2]", b'"text"', b"5"])
def test_model_attributes_type(raw: bytes) -> None:
    error = only_error(TaskCreate, raw)
    assert error == {
        "type": "model_attributes_type",
        "loc": ["body"],
        "msg": "Input should be a valid dictionary or object to extract fields from",
        "input": msgspec.json.decode(raw),
    }


def test_nested_object_errors_carry_the_full_path() -> None:
    error = only_error(Bulk, b'{"task_ids":[1],"updates":{"priority":"x"}}')
    assert error["loc"] == ["body", "updates", "priority"]
    error = only_error(Bulk, b'{"task_ids":[1],"updates":"x"}')
    assert (error["type"], error["loc"]) == ("model_attributes_type", ["body", "updates"])


def test_non_json_content_type_fails_the_type_check_with_the_text() -> None:
    assert errors_of(TaskCreate, b"title=x", json_content=False) == [
        {
            "type": "model_attributes_type",
            "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "input": "title=x",
        }
    ]


def test_post_init_rules_become_value_errors() -> None:
    class Range(Struct):
        low: int
        high: int

        def __post_init__(self) -> None:
            if self.low > self.high:
                raise ValueError("low must not exceed high")

    assert decode_body(Range, b'{"low":1,"high":2}') == Range(1, 2)
    error = only_error(Range, b'{"low":3,"high":2}')
    assert error["type"] == "value_error"
    assert error["loc"] == ["body"]
    assert error["msg"] == "Value error, low must not exceed high"


# --- all errors at once, and the readable sentence ------------------------------------------


def test_every_error_is_reported_in_field_order() -> None:
    errors = errors_of(Register, b'{"username":"al","password":"short"}')
    assert [(e["type"], e["loc"]) for e in errors] == [
        ("string_too_short", ["body", "username"]),
        ("missing", ["body", "email"]),
        ("string_too_short", ["body", "password"]),
    ]


def test_a_failing_strip_check_still_reports_the_other_errors() -> None:
    # The fast path passes msgspec, then the strip step fails: the walker reports everything.
    errors = errors_of(TaskCreate, b'{"title":"  ","tags":["  toolong  "]}')
    assert [(e["type"], e["loc"]) for e in errors] == [
        ("string_too_short", ["body", "title"]),
        ("string_too_long", ["body", "tags", 0]),
    ]
    assert errors[1]["input"] == "  toolong  "


def test_detail_names_the_first_offending_field() -> None:
    with pytest.raises(RequestValidationError) as caught:
        decode_body(Register, b'{"username":"alice","email":"e","password":"short"}')
    assert caught.value.detail == "password: String should have at least 8 characters"
    assert caught.value.to_body() == {
        "detail": "password: String should have at least 8 characters",
        "errors": caught.value.errors,
    }


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (["body", "updates", "priority"], "updates.priority: m"),
        (["body", "tags", 1], "tags[1]: m"),
        (["body"], "body: m"),
        (["query", "limit"], "limit: m"),
    ],
)
def test_describe_error_paths(loc: list[str | int], expected: str) -> None:
    assert describe_error({"type": "x", "loc": loc, "msg": "m", "input": None}) == expected


def test_describe_json_invalid() -> None:
    with pytest.raises(RequestValidationError) as caught:
        decode_body(Register, b"{")
    assert caught.value.detail == (
        "body: JSON decode error (Expecting property name enclosed in double quotes at position 1)"
    )

"""The plumbing inside a tiny Litestar app: thin controllers, 422/404/405/413/429/500 shapes,
domain-error families, CORS on errors, and an OpenAPI document that shows the real shapes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import msgspec
import pytest
from litestar import Litestar, Request, get, patch, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK
from litestar.testing import TestClient
from msgspec import UNSET, Meta, Struct, UnsetType

from faros.domain.errors import (
    AuthenticationFailed,
    Conflict,
    DuplicateUser,
    FieldInvalid,
    Forbidden,
    Invalid,
    InvalidCredentials,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    TagNotFound,
    TaskAccessDenied,
    TaskNotFound,
)
from faros.entrypoints.http.errors import (
    RateLimitExceeded,
    exception_handlers,
    rate_limited_response,
    ratelimit_policy,
)
from faros.entrypoints.http.security import cors_config
from faros.entrypoints.http.validation import (
    IntPath,
    RequestValidationError,
    ValidationPlugin,
    decode_body,
    missing_error,
    parse_query,
    path_int,
)
from faros.entrypoints.http.validation.plugin import body_schema, enum_component, named_components

ORIGIN = "http://localhost:5173"
STRIP = {"strip": True}


class ItemIn(Struct):
    title: Annotated[str, Meta(min_length=1, max_length=20, extra=STRIP)]
    priority: Literal["low", "medium", "high"] = "medium"
    done: bool = False


class ItemPatch(Struct):
    title: Annotated[str, Meta(min_length=1, max_length=20, extra=STRIP)] | UnsetType = UNSET
    note: str | UnsetType | None = UNSET


class Outer(Struct):
    ids: Annotated[list[int], Meta(min_length=1)]
    updates: ItemPatch


class ItemQuery(Struct):
    done: bool | None = None
    level: Annotated[Literal["low", "high"], enum_component("Level")] | None = None
    sort_order: Literal["asc", "desc"] = "asc"
    limit: Annotated[int, Meta(ge=1, le=100)] = 100


def present(value: Struct) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(value).items() if v is not UNSET}


@post("/items", body=ItemIn)
async def create_item(request: Request[Any, Any, Any]) -> dict[str, Any]:
    data = decode_body(ItemIn, await request.body())
    return msgspec.structs.asdict(data)


@patch("/items/{item_id:str}", body=ItemPatch)
async def update_item(request: Request[Any, Any, Any], item_id: IntPath) -> dict[str, Any]:
    number = path_int("item_id", item_id, not_found=TaskNotFound)
    data = decode_body(ItemPatch, await request.body())
    return {"id": number, "changes": present(data)}


@patch("/bulk", body=Outer)
async def bulk(request: Request[Any, Any, Any]) -> dict[str, Any]:
    data = decode_body(Outer, await request.body())
    return {"ids": data.ids, "changes": present(data.updates)}


@get("/items", query=ItemQuery)
async def list_items(request: Request[Any, Any, Any]) -> dict[str, Any]:
    query = parse_query(ItemQuery, request.scope["query_string"])
    return msgspec.structs.asdict(query)


@post("/items/{item_id:str}/tags", status_code=HTTP_200_OK, body=list[str])
async def add_tags(request: Request[Any, Any, Any], item_id: IntPath) -> list[str]:
    path_int("item_id", item_id)
    return decode_body(list[str], await request.body())


@post("/typed")
async def typed(data: JSONBody[ItemIn]) -> dict[str, Any]:
    return msgspec.structs.asdict(data)


@post("/typed-tags", status_code=HTTP_200_OK)
async def typed_tags(data: JSONBody[list[str]]) -> list[str]:
    return data


@post("/small", request_max_body_size=16)
async def small(request: Request[Any, Any, Any]) -> dict[str, int]:
    return {"size": len(await request.body())}


@get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals")


@post("/upload")
async def upload() -> None:
    # What a hand-written multipart reader raises: plain dicts are accepted too.
    raise RequestValidationError([dict(missing_error(("body", "file"), None))])


DOMAIN_ERRORS: dict[str, Exception] = {
    "task": TaskNotFound(7),
    "denied": TaskAccessDenied(),
    "tag": TagNotFound(7, "héllo"),
    "duplicate": DuplicateUser("username", "alice"),
    "credentials": InvalidCredentials(),
    "notfound": NotFound("User not found"),
    "forbidden": Forbidden("User 3 is not authorized to access comment_id=9"),
    "conflict": Conflict("Task already shared with this user"),
    "invalid": Invalid("No fields provided for update"),
    "auth": AuthenticationFailed("Invalid or expired token"),
    "toolarge": PayloadTooLarge("Upload too large"),
    "unavailable": ServiceUnavailable("Storage is unavailable"),
    "field": FieldInvalid(("body", "username"), "Username may only contain letters", "a/b"),
    "limited": RateLimitExceeded(
        "5 per 1 minute", retry_after=42, policy=ratelimit_policy("login", 5, 60), reset=42
    ),
}


@get("/raise/{kind:str}")
async def raise_domain(request: Request[Any, Any, Any]) -> None:
    raise DOMAIN_ERRORS[request.path_params["kind"]]


def build_app() -> Litestar:
    return Litestar(
        route_handlers=[
            create_item,
            update_item,
            bulk,
            list_items,
            add_tags,
            typed,
            typed_tags,
            small,
            boom,
            raise_domain,
            upload,
        ],
        plugins=[ValidationPlugin()],
        exception_handlers=exception_handlers(),
        cors_config=cors_config([ORIGIN]),
        logging_config=None,
    )


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    with TestClient(build_app(), raise_server_exceptions=False) as test_client:
        yield test_client


# --- bodies -----------------------------------------------------------------------------------


def test_post_body_struct(client: TestClient[Litestar]) -> None:
    response = client.post("/items", json={"title": "  Buy milk ", "done": True, "x": 1})
    assert response.status_code == 201
    assert response.json() == {"title": "Buy milk", "priority": "medium", "done": True}


def test_post_body_422_shape_and_content_type(client: TestClient[Litestar]) -> None:
    response = client.post("/items", json={"title": "", "priority": "urgent"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "detail": "title: String should have at least 1 character",
        "errors": [
            {
                "type": "string_too_short",
                "loc": ["body", "title"],
                "msg": "String should have at least 1 character",
                "input": "",
                "ctx": {"min_length": 1},
            },
            {
                "type": "literal_error",
                "loc": ["body", "priority"],
                "msg": "Input should be 'low', 'medium' or 'high'",
                "input": "urgent",
                "ctx": {"expected": "'low', 'medium' or 'high'"},
            },
        ],
    }


def test_invalid_json_is_422_json_invalid(client: TestClient[Litestar]) -> None:
    response = client.post(
        "/items", content=b'{"title": }', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "type": "json_invalid",
            "loc": ["body", 10],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": "Expecting value"},
        }
    ]


def test_missing_body_is_422_missing(client: TestClient[Litestar]) -> None:
    response = client.post("/items")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
    ]


def test_patch_unset_versus_null(client: TestClient[Litestar]) -> None:
    response = client.patch("/items/5", json={"note": None})
    assert response.status_code == 200
    assert response.json() == {"id": 5, "changes": {"note": None}}
    response = client.patch("/items/5", json={"title": " New "})
    assert response.json() == {"id": 5, "changes": {"title": "New"}}
    response = client.patch("/items/5", json={"title": None})
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "string_type"


def test_nested_update_errors(client: TestClient[Litestar]) -> None:
    response = client.patch("/bulk", json={"ids": [], "updates": {"title": 3}})
    assert response.status_code == 422
    assert [(e["type"], e["loc"]) for e in response.json()["errors"]] == [
        ("too_short", ["body", "ids"]),
        ("string_type", ["body", "updates", "title"]),
    ]


def test_bare_array_body(client: TestClient[Litestar]) -> None:
    response = client.post("/items/3/tags", json=["a", "b"])
    assert (response.status_code, response.json()) == (200, ["a", "b"])
    response = client.post("/items/3/tags", json={"tags": ["a"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "list_type"
    assert response.json()["errors"][0]["loc"] == ["body"]


def test_path_int_errors(client: TestClient[Litestar]) -> None:
    response = client.patch("/items/abc", json={})
    assert response.status_code == 422
    assert response.json() == {
        "detail": "item_id: Input should be a valid integer, unable to parse string as an integer",
        "errors": [
            {
                "type": "int_parsing",
                "loc": ["path", "item_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "abc",
            }
        ],
    }
    response = client.patch("/items/4294967296", json={})
    assert response.status_code == 404
    assert response.json() == {
        "error": "Task Not Found",
        "message": "Task with ID 4294967296 not found",
        "task_id": 4294967296,
    }


def test_data_parameter_goes_through_the_same_decoder(client: TestClient[Litestar]) -> None:
    response = client.post("/typed", json={"title": " x ", "done": True})
    assert (response.status_code, response.json()) == (
        201,
        {"title": "x", "priority": "medium", "done": True},
    )
    response = client.post("/typed", json={"priority": "nope"})
    assert response.status_code == 422
    assert [e["type"] for e in response.json()["errors"]] == ["missing", "literal_error"]
    response = client.post("/typed")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
    ]
    response = client.post("/typed-tags", json=["a", 1])
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", 1]


def test_non_json_content_type_on_a_data_parameter(client: TestClient[Litestar]) -> None:
    response = client.post("/typed", content=b"title=x", headers={"content-type": "text/plain"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "model_attributes_type"
    assert response.json()["errors"][0]["input"] == "title=x"


def test_oversized_body_is_413(client: TestClient[Litestar]) -> None:
    response = client.post("/small", content=b"x" * 100)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}


def test_a_path_matching_no_route_stays_404(client: TestClient[Litestar]) -> None:
    response = client.get("/tasks/1/nothing")
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})


def test_plain_dict_errors_are_accepted(client: TestClient[Litestar]) -> None:
    response = client.post("/upload")
    assert response.status_code == 422
    assert response.json() == {
        "detail": "file: Field required",
        "errors": [
            {"type": "missing", "loc": ["body", "file"], "msg": "Field required", "input": None}
        ],
    }


# --- query --------------------------------------------------------------------------------------


def test_query_struct(client: TestClient[Litestar]) -> None:
    response = client.get("/items?done=t&level=high&sort_order=desc&limit=5&limit=7")
    assert response.json() == {"done": True, "level": "high", "sort_order": "desc", "limit": 7}


def test_query_422(client: TestClient[Litestar]) -> None:
    response = client.get("/items?done=perhaps&limit=0")
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "done: Input should be a valid boolean, unable to interpret input"
    )
    assert [e["loc"] for e in response.json()["errors"]] == [
        ["query", "done"],
        ["query", "limit"],
    ]


# --- framework errors ---------------------------------------------------------------------------


def test_unknown_path_is_404_detail(client: TestClient[Litestar]) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert response.headers["content-type"] == "application/json"


def test_wrong_method_is_405_detail(client: TestClient[Litestar]) -> None:
    response = client.put("/items")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


def test_unhandled_error_is_json_500_with_cors_and_is_logged(
    client: TestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="faros.http"):
        response = client.get("/boom", headers={"Origin": ORIGIN})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert "secret" not in response.text
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    records = [r for r in caplog.records if r.name == "faros.http"]
    assert len(records) == 1
    assert records[0].exc_info is not None
    assert "RuntimeError" in records[0].getMessage()


def test_error_responses_carry_cors_headers(client: TestClient[Litestar]) -> None:
    response = client.get("/raise/task", headers={"Origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    response = client.post("/items", json={}, headers={"Origin": ORIGIN})
    assert response.status_code == 422
    assert response.headers["access-control-allow-origin"] == ORIGIN


# --- domain errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        (
            "task",
            404,
            {"error": "Task Not Found", "message": "Task with ID 7 not found", "task_id": 7},
        ),
        (
            "denied",
            403,
            {
                "error": "Unauthorized Access",
                "message": "You do not have permission to access this task",
            },
        ),
        (
            "tag",
            404,
            {
                "error": "Tag Not Found",
                "message": "Tag 'héllo' not found on task 7",
                "task_id": 7,
                "tag": "héllo",
            },
        ),
        (
            "duplicate",
            409,
            {
                "error": "Duplicate User",
                "message": "Username 'alice' is already registered",
                "field": "username",
            },
        ),
        (
            "credentials",
            401,
            {"error": "Authentication Failed", "message": "Invalid username or password"},
        ),
        ("notfound", 404, {"detail": "User not found"}),
        ("forbidden", 403, {"detail": "User 3 is not authorized to access comment_id=9"}),
        ("conflict", 409, {"detail": "Task already shared with this user"}),
        ("invalid", 400, {"detail": "No fields provided for update"}),
        ("auth", 401, {"detail": "Invalid or expired token"}),
        ("toolarge", 413, {"detail": "Upload too large"}),
        ("unavailable", 503, {"detail": "Storage is unavailable"}),
        ("limited", 429, {"error": "Rate limit exceeded: 5 per 1 minute"}),
    ],
)
def test_domain_error_bodies(
    client: TestClient[Litestar], kind: str, status: int, body: dict[str, Any]
) -> None:
    response = client.get(f"/raise/{kind}")
    assert response.status_code == status
    assert response.json() == body
    assert response.headers["content-type"] == "application/json"


def test_non_ascii_is_emitted_raw(client: TestClient[Litestar]) -> None:
    response = client.get("/raise/tag")
    assert "héllo".encode() in response.content


@pytest.mark.parametrize("kind", ["credentials", "auth"])
def test_401s_carry_www_authenticate(client: TestClient[Litestar], kind: str) -> None:
    assert client.get(f"/raise/{kind}").headers["www-authenticate"] == "Bearer"


def test_field_invalid_is_a_422_value_error(client: TestClient[Litestar]) -> None:
    response = client.get("/raise/field")
    assert response.status_code == 422
    assert response.json() == {
        "detail": "username: Value error, Username may only contain letters",
        "errors": [
            {
                "type": "value_error",
                "loc": ["body", "username"],
                "msg": "Value error, Username may only contain letters",
                "input": "a/b",
                "ctx": {"error": {}},
            }
        ],
    }


def test_rate_limit_exception_headers(client: TestClient[Litestar]) -> None:
    response = client.get("/raise/limited")
    assert response.headers["retry-after"] == "42"
    assert response.headers["ratelimit-policy"] == '"login";q=5;w=60'
    assert response.headers["ratelimit"] == '"login";r=0;t=42'


def test_rate_limited_response_helper() -> None:
    response = rate_limited_response(
        "100 per 1 hour", 120, '"tasks";q=100;w=3600', '"tasks";r=0;t=120'
    )
    assert response.status_code == 429
    assert response.content == {"error": "Rate limit exceeded: 100 per 1 hour"}
    assert response.headers["Retry-After"] == "120"
    assert response.headers["RateLimit-Policy"] == '"tasks";q=100;w=3600'
    assert response.headers["RateLimit"] == '"tasks";r=0;t=120'


def test_rate_limit_exceeded_defaults_reset_to_retry_after() -> None:
    exc = RateLimitExceeded("1 per 1 minute", 30, ratelimit_policy("reset", 1, 60))
    assert exc.ratelimit_header == '"reset";r=0;t=30'


# --- OpenAPI ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def openapi(client: TestClient[Litestar]) -> dict[str, Any]:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    named_components(document)  # what an app using the plugin serves (openapi_document.py)
    return document


def component(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    name = schema["$ref"].removeprefix("#/components/schemas/")
    found: dict[str, Any] = document["components"]["schemas"][name]
    return found


def test_openapi_documents_declared_bodies(openapi: dict[str, Any]) -> None:
    body = openapi["paths"]["/items"]["post"]["requestBody"]
    reference = body["content"]["application/json"]["schema"]
    assert reference == {"$ref": "#/components/schemas/ItemIn"}
    schema = component(openapi, reference)
    assert body["required"] is True
    assert schema["required"] == ["title"]
    assert schema["properties"]["title"] == {"type": "string", "minLength": 1, "maxLength": 20}
    assert schema["properties"]["priority"]["enum"] == ["low", "medium", "high"]
    nested = openapi["paths"]["/bulk"]["patch"]["requestBody"]["content"]["application/json"]
    updates = component(openapi, nested["schema"])["properties"]["updates"]
    assert updates == {"$ref": "#/components/schemas/ItemPatch"}
    assert "title" in component(openapi, updates)["properties"]
    tags = openapi["paths"]["/items/{item_id}/tags"]["post"]["requestBody"]
    assert tags["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"type": "string"},
    }


def test_openapi_documents_declared_enums_as_components(openapi: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in openapi["paths"]["/items"]["get"]["parameters"]}
    assert parameters["level"]["schema"] == {"$ref": "#/components/schemas/Level"}
    assert openapi["components"]["schemas"]["Level"] == {
        "title": "Level",
        "type": "string",
        "enum": ["low", "high"],
    }
    # A plain Literal is not named: it stays where it is.
    assert parameters["sort_order"]["schema"]["enum"] == ["asc", "desc"]


def test_openapi_documents_typed_query_parameters(openapi: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in openapi["paths"]["/items"]["get"]["parameters"]}
    assert parameters["done"]["in"] == "query"
    assert parameters["done"]["schema"] == {"type": "boolean"}
    assert parameters["sort_order"]["schema"] == {
        "type": "string",
        "enum": ["asc", "desc"],
        "default": "asc",
    }
    assert parameters["limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 100,
    }
    assert parameters["limit"]["required"] is False


def test_openapi_documents_int_path_ids_and_the_422(openapi: dict[str, Any]) -> None:
    operation = openapi["paths"]["/items/{item_id}"]["patch"]
    path_param = next(p for p in operation["parameters"] if p["name"] == "item_id")
    assert path_param["in"] == "path"
    assert path_param["schema"]["type"] == "integer"
    assert "400" not in operation["responses"]
    reference = operation["responses"]["422"]["content"]["application/json"]["schema"]
    assert reference == {"$ref": "#/components/schemas/ValidationError"}
    schema = component(openapi, reference)
    assert schema["required"] == ["detail", "errors"]
    assert schema["properties"]["errors"]["minItems"] == 1
    item = component(openapi, schema["properties"]["errors"]["items"])
    assert item["required"] == ["type", "loc", "msg", "input"]


def test_openapi_documents_data_parameters(openapi: dict[str, Any]) -> None:
    operation = openapi["paths"]["/typed"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ItemIn"
    }
    assert "422" in operation["responses"]
    assert "400" not in operation["responses"]
    # One component per Struct, whether it is declared with `body=` or a `data:` parameter.
    names = [name for name in openapi["components"]["schemas"] if name.startswith("ItemIn")]
    assert names == ["ItemIn"]


def test_one_component_name_means_one_shape() -> None:
    # Two Structs of one name (from different modules) would be one class in a client.
    first = msgspec.defstruct("Twin", [("a", int)])
    second = msgspec.defstruct("Twin", [("b", str)])
    assert body_schema(first) == body_schema(second) == {"$ref": "#/components/schemas/Twin"}
    document: dict[str, Any] = {"paths": {"/": {"$ref": "#/components/schemas/Twin"}}}
    with pytest.raises(ValueError, match="'Twin'"):
        named_components(document)

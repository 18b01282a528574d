"""Litestar integration: handler `data: Shape` parameters decoded by `decode_body`, and the
OpenAPI document told about `body=` / `query=` shapes and the 422 answer.

Unknown route decorator keyword arguments land in the handler's `opt`; `body=` and `query=`
there document a body or a query set that the handler reads itself. A 422 replaces Litestar's
documented 400 "Validation Exception" wherever a request is validated.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Collection, Generator, Iterator
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, cast

import msgspec
from litestar.dto import AbstractDTO, DTOConfig
from litestar.enums import ParamType, RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, RequestBody, Schema
from litestar.openapi.spec import Parameter as OpenAPIParameter
from litestar.params import BodyKwarg
from litestar.plugins import SerializationPlugin
from litestar.plugins.base import ReceiveRoutePlugin
from litestar.routes import HTTPRoute

from faros.entrypoints.http.validation.body import decode_body, is_json_content_type, plan_for
from faros.entrypoints.http.validation.errors import (
    ErrorDict,
    Loc,
    RequestValidationError,
    ValidationErrorBody,
    missing_error,
    value_error,
)

if TYPE_CHECKING:
    from litestar.dto.data_structures import DTOFieldDefinition
    from litestar.openapi.spec import Reference
    from litestar.routes import BaseRoute
    from litestar.typing import FieldDefinition


def _literals(annotation: Any, seen: set[Any]) -> Iterator[tuple[Any, ...]]:
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        if annotation not in seen:
            seen.add(annotation)
            for field in msgspec.structs.fields(annotation):
                yield from _literals(field.type, seen)
    elif typing.get_origin(annotation) is Literal:
        yield typing.get_args(annotation)
    else:
        for arg in typing.get_args(annotation):
            yield from _literals(arg, seen)


def body_schema(target: Any) -> dict[str, Any]:
    """The JSON schema of a request shape, self-contained (msgspec's, nested refs inlined),
    with enums in their declared order (msgspec sorts them)."""
    schema = msgspec.json.schema(target)
    defs = schema.get("$defs", {})
    declared = {frozenset(values): list(values) for values in _literals(target, set())}

    def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            # Keywords beside the reference (`minProperties` from an annotated Struct) stay.
            beside = {key: value for key, value in node.items() if key != "$ref"}
            return inline({**defs[ref.removeprefix("#/$defs/")], **beside})
        node = {key: inline(value) for key, value in node.items() if key != "$defs"}
        if isinstance(enum := node.get("enum"), list) and all(isinstance(v, str) for v in enum):
            node = {"type": "string", **node, "enum": declared.get(frozenset(enum), enum)}
        return node

    return cast(dict[str, Any], inline(schema))


_VALIDATION_DOC: Final = body_schema(ValidationErrorBody)


def query_parameters(target: Any) -> list[OpenAPIParameter]:
    """The query parameters of a query Struct; an optional value is simply left out."""
    schema = body_schema(target)
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        default = prop.pop("default", None)
        choices = [c for c in prop.get("anyOf", ()) if c != {"type": "null"}]
        if len(choices) == 1:
            prop = choices[0]
        if default is not None:
            prop["default"] = default
        parameters.append(
            OpenAPIParameter(
                name=name,
                param_in=ParamType.QUERY,
                required=name in required,
                schema=cast(Schema, prop),
            )
        )
    return parameters


def _is_litestar_validation(response: OpenAPIResponse | Reference) -> bool:
    if not isinstance(response, OpenAPIResponse) or not response.content:
        return False
    for media in response.content.values():
        schema = media.schema
        if isinstance(schema, Schema) and schema.description == "Validation Exception":
            return True
        if isinstance(schema, Schema) and schema.one_of:
            schema.one_of = [
                s
                for s in schema.one_of
                if not (isinstance(s, Schema) and s.description == "Validation Exception")
            ]
    return False


def _operation_class(body: Any, query: Any) -> type[Operation]:
    """An Operation that adds what `body=` / `query=` declare and the 422 answer."""
    # A ready schema (a dict) stands for a shape Litestar cannot deep-copy into `opt`.
    body_doc = body if isinstance(body, dict) or body is None else body_schema(body)
    query_doc = query_parameters(query) if query is not None else []

    @dataclasses.dataclass
    class ValidatedOperation(Operation):
        def __post_init__(self) -> None:
            validated = bool(body_doc or query_doc or self.parameters or self.request_body)
            if body_doc is not None and self.request_body is None:
                media = OpenAPIMediaType(schema=cast(Schema, body_doc))
                self.request_body = RequestBody(required=True, content={"application/json": media})
            if query_doc:
                known = {p.name for p in self.parameters or [] if isinstance(p, OpenAPIParameter)}
                self.parameters = [
                    *(self.parameters or []),
                    *(p for p in query_doc if p.name not in known),
                ]
            if self.responses is not None:
                stale = self.responses.get("400")
                if stale is not None and _is_litestar_validation(stale):
                    del self.responses["400"]
                if validated:
                    media = OpenAPIMediaType(schema=cast(Schema, _VALIDATION_DOC))
                    self.responses["422"] = OpenAPIResponse(
                        description="Validation error", content={"application/json": media}
                    )

    return ValidatedOperation


class _SchemaCreator(Protocol):
    def for_field_definition(self, field_definition: FieldDefinition) -> Schema | Reference: ...


class _BodyDTO(AbstractDTO[Any]):
    """Lets `data: Shape` handlers use `decode_body` instead of Litestar's 400-answering parse."""

    __slots__ = ()
    target: Any = None

    def decode_bytes(self, value: bytes) -> Any:
        content_type = next(
            (v for k, v in self.asgi_connection.scope["headers"] if k == b"content-type"), None
        )
        return decode_body(self.target, value, json_content=is_json_content_type(content_type))

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        errors: list[ErrorDict] = []
        result = plan_for(self.target).check(value, ("body",), errors)
        if errors:
            raise RequestValidationError(errors)
        return result

    @classmethod
    def generate_field_definitions(
        cls, model_type: type[Any]
    ) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    @classmethod
    def is_supported_model_type_field(cls, field_definition: FieldDefinition) -> bool:
        return False  # never used for responses

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        return None  # no transfer models: decode_body does the work

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: _SchemaCreator
    ) -> Reference | Schema:
        return schema_creator.for_field_definition(field_definition)

    def data_to_encodable_type(self, data: Any | Collection[Any]) -> Any:
        return data


_DTOS: dict[Any, type[_BodyDTO]] = {}
_FORM_TYPES: Final = frozenset({RequestEncodingType.MULTI_PART, RequestEncodingType.URL_ENCODED})


class ValidationPlugin(SerializationPlugin, ReceiveRoutePlugin):
    """Install once: `Litestar(..., plugins=[ValidationPlugin()])`."""

    def supports_type(self, field_definition: FieldDefinition) -> bool:
        if field_definition.name != "data" or field_definition.annotation in (bytes, str):
            return False
        kwarg = field_definition.kwarg_definition
        return not (isinstance(kwarg, BodyKwarg) and kwarg.media_type in _FORM_TYPES)

    def create_dto_for_type(self, field_definition: FieldDefinition) -> type[AbstractDTO[Any]]:
        target = field_definition.annotation
        if target not in _DTOS:
            plan_for(target)  # an unsupported shape fails at start-up, not on a request
            name = f"BodyDTO[{getattr(target, '__name__', target)}]"
            attributes = {"target": target, "model_type": target, "config": DTOConfig()}
            _DTOS[target] = type(name, (_BodyDTO,), attributes)
        return _DTOS[target]

    def receive_route(self, route: BaseRoute) -> None:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if handler.operation_class is Operation:
                    body, query = handler.opt.get("body"), handler.opt.get("query")
                    handler.operation_class = _operation_class(body, query)


def litestar_validation_errors(exc: ValidationException) -> list[ErrorDict]:
    """Best-effort 422 items for a 400 Litestar raised itself (e.g. a missing `data` body)."""
    errors: list[ErrorDict] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        key, message = item.get("key"), str(item.get("message", ""))
        if key == "data" and ("'data'" in message or "missing" in message.lower()):
            errors.append(missing_error(("body",), None))
            continue
        source = str(item.get("source") or "query")
        loc: Loc = (source, *str(key).split(".")) if key else (source,)
        errors.append(value_error(loc, message, None))
    if not errors:
        detail = exc.detail or "Invalid request"
        source = next((s for s in ("query", "header", "cookie", "path") if s in detail), "body")
        errors.append(value_error((source,), detail, None))
    return errors

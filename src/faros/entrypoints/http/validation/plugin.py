"""Litestar integration: handler `data: Shape` parameters decoded by `decode_body`, and the
OpenAPI document told about `body=` / `query=` shapes and the 422 answer.

Unknown route decorator keyword arguments land in the handler's `opt`; `body=` and `query=`
there document a body or a query set that the handler reads itself. A 422 replaces Litestar's
documented 400 "Validation Exception" wherever a request is validated.

Named shapes: a request body is the component of its Struct's name, the 422 body the
`ValidationError` component, an enum declared with `enum_component` one component referenced
wherever it appears; those come from msgspec's schemas and reach the document through the
`named_components` step (openapi_document.py).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Collection, Generator, Iterator
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, Protocol, cast

import msgspec
from litestar.dto import AbstractDTO, DTOConfig
from litestar.enums import ParamType, RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)
from litestar.openapi.spec import Parameter as OpenAPIParameter
from litestar.params import BodyKwarg, KwargDefinition
from litestar.plugins import OpenAPISchemaPlugin, SerializationPlugin
from litestar.plugins.base import ReceiveRoutePlugin
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

from faros.entrypoints.http.validation.body import decode_body, is_json_content_type, plan_for
from faros.entrypoints.http.validation.errors import (
    ErrorDict,
    Loc,
    RequestValidationError,
    ValidationError,
    missing_error,
    value_error,
)

if TYPE_CHECKING:
    from litestar.dto.data_structures import DTOFieldDefinition
    from litestar.routes import BaseRoute


def enum_component(name: str, description: str | None = None) -> msgspec.Meta:
    """`Annotated[Literal[...], enum_component("Priority")]`: the document shows the enum as the
    component `Priority`, referenced wherever the type appears (request bodies, responses,
    query parameters), so a generated client has one enum class for it.

    Carried in `Meta.extra` rather than as a `title`: Litestar would copy a title onto every
    field of that type, wrapping each reference in an `allOf`.
    """
    extra: dict[str, str] = {_ENUM_KEY: name}
    if description:
        extra["description"] = description
    return msgspec.Meta(extra=extra)


_ENUM_KEY: Final = "enum_component"


def _enum_meta(metadata: Any) -> tuple[str, str | None] | None:
    for meta in metadata:
        if isinstance(meta, msgspec.Meta) and meta.extra and _ENUM_KEY in meta.extra:
            return meta.extra[_ENUM_KEY], meta.extra.get("description")
    return None


_Literals = tuple[tuple[Any, ...], tuple[str, str | None] | None]


def _structs(annotation: Any, seen: set[Any]) -> Iterator[type[msgspec.Struct]]:
    """Every Struct in `annotation`: their `json_schema_extra` class attribute (keywords msgspec
    has no `Meta` for at class level, e.g. `minProperties`) goes into their component."""
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        if annotation not in seen:
            seen.add(annotation)
            yield annotation
            for field in msgspec.structs.fields(annotation):
                yield from _structs(field.type, seen)
    else:
        for arg in typing.get_args(annotation):
            yield from _structs(arg, seen)


def _literals(annotation: Any, seen: set[Any]) -> Iterator[_Literals]:
    """Every Literal in `annotation`, with its enum component's name if it is declared one."""
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        if annotation not in seen:
            seen.add(annotation)
            for field in msgspec.structs.fields(annotation):
                yield from _literals(field.type, seen)
    elif typing.get_origin(annotation) is Annotated:
        base, *metadata = typing.get_args(annotation)
        if typing.get_origin(base) is Literal:
            yield typing.get_args(base), _enum_meta(metadata)
        else:
            yield from _literals(base, seen)
    elif typing.get_origin(annotation) is Literal:
        yield typing.get_args(annotation), None
    else:
        for arg in typing.get_args(annotation):
            yield from _literals(arg, seen)


_REF: Final = "#/components/schemas/{name}"

# The components the contract's own schemas name (request bodies, the 422 body, titled enums):
# Litestar rebuilds `components.schemas` from its registry, which holds only what it rendered
# itself, so these are kept here, every shape seen under each name, for `named_components`.
_COMPONENTS: dict[str, list[dict[str, Any]]] = {}


def _component(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Keep `schema` as component `name` and answer a reference to it."""
    known = _COMPONENTS.setdefault(name, [])
    if schema not in known:
        known.append(schema)
    return {"$ref": _REF.format(name=name)}


def named_components(document: dict[str, Any]) -> None:
    """Add to `document` (an OpenAPI document as a dict) every component it references that
    this plugin named. An app using the plugin serves its document through this step.

    A name shown with two different shapes (two Structs of one name in different modules) is
    an error: a generated client would have one class for both.
    """
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    pending = list(_references(document))
    while pending:
        name = pending.pop()
        if name in schemas or name not in _COMPONENTS:
            continue
        shapes = _COMPONENTS[name]
        if len(shapes) > 1:
            raise ValueError(f"Two different schemas are both named {name!r}")
        schemas[name] = shapes[0]
        pending.extend(_references(shapes[0]))
    document["components"]["schemas"] = dict(sorted(schemas.items()))


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            yield ref.removeprefix("#/components/schemas/")
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def _enum(title: str, description: str | None, *, values: list[Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"title": title, "type": "string", "enum": values}
    if description:
        schema["description"] = description
    return _component(title, schema)


def _named_schemas(target: Any) -> dict[str, Any]:
    """msgspec's JSON schema of `target`: its Structs and declared enums (`enum_component`)
    named components, enums in their declared order (msgspec sorts them)."""
    (schema,), defs = msgspec.json.schema_components([target], ref_template=_REF)
    declared = {
        frozenset(values): (list(values), named) for values, named in _literals(target, set())
    }

    def name(node: Any) -> Any:
        if isinstance(node, list):
            return [name(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: name(value) for key, value in node.items()}
        enum = node.get("enum")
        if isinstance(enum, list) and all(isinstance(v, str) for v in enum):
            values, named = declared.get(frozenset(enum), (enum, None))
            if named is not None:
                rest = {k: v for k, v in node.items() if k != "enum"}
                return {**_enum(*named, values=values), **rest}
            node = {"type": "string", **node, "enum": values}
        return node

    named_defs = {key: name(value) for key, value in defs.items()}
    for struct in _structs(target, set()):
        extra = getattr(struct, "json_schema_extra", None)
        if extra and struct.__name__ in named_defs:
            named_defs[struct.__name__] = {**named_defs[struct.__name__], **extra}
    top = name(schema)
    return {"top": top, "defs": named_defs}


def body_schema(target: Any) -> dict[str, Any]:
    """The JSON schema of a request shape: a Struct (and every Struct in it) is a component of
    its own name, referenced; so is every enum declared with `enum_component`."""
    named = _named_schemas(target)
    for key, value in named["defs"].items():
        _component(key, value)
    return cast(dict[str, Any], named["top"])


def query_parameters(target: Any) -> list[OpenAPIParameter]:
    """The query parameters of a query Struct; an optional value is simply left out."""
    named = _named_schemas(target)
    schema = named["defs"][target.__name__]
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


def validation_error_schema() -> Reference:
    """The 422 answer's body: the `ValidationError` component."""
    return Reference(ref=body_schema(ValidationError)["$ref"])


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
                    media = OpenAPIMediaType(schema=validation_error_schema())
                    self.responses["422"] = OpenAPIResponse(
                        description="Validation error", content={"application/json": media}
                    )

    return ValidatedOperation


class _Registry(Protocol):
    def get_schema_for_field_definition(self, field: FieldDefinition) -> Schema: ...
    def get_reference_for_field_definition(self, field: FieldDefinition) -> Reference | None: ...


class _SchemaCreator(Protocol):
    @property
    def schema_registry(self) -> _Registry: ...

    def for_field_definition(self, field_definition: FieldDefinition) -> Schema | Reference: ...


def _is_struct(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)


def _union_component(field_definition: FieldDefinition) -> str | None:
    """`Annotated[A | B, KwargDefinition(schema_component_key="AOrB")]`, Structs A and B: an
    answer that is one of several bodies, shown as the `oneOf` component `AOrB`."""
    kwarg = field_definition.kwarg_definition
    if (
        isinstance(kwarg, KwargDefinition)
        and kwarg.schema_component_key
        and field_definition.is_union
        and all(_is_struct(arg) for arg in typing.get_args(field_definition.annotation))
    ):
        return kwarg.schema_component_key
    return None


def _is_named_enum(field_definition: FieldDefinition) -> bool:
    return (
        typing.get_origin(field_definition.annotation) is Literal
        and _enum_meta(field_definition.metadata) is not None
    )


def _is_any_object(field_definition: FieldDefinition) -> bool:
    return bool(field_definition.annotation == dict[str, Any])


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
        schema = body_schema(cls.target)
        if "$ref" in schema:
            return Reference(ref=schema["$ref"])
        return cast(Schema, schema)  # a bare list: not a component

    def data_to_encodable_type(self, data: Any | Collection[Any]) -> Any:
        return data


_DTOS: dict[Any, type[_BodyDTO]] = {}
_FORM_TYPES: Final = frozenset({RequestEncodingType.MULTI_PART, RequestEncodingType.URL_ENCODED})


class ValidationPlugin(SerializationPlugin, ReceiveRoutePlugin, OpenAPISchemaPlugin):
    """Install once: `Litestar(..., plugins=[ValidationPlugin()])`.

    In the document, a request body is the component of its Struct's name (the contract's
    schema of it, not Litestar's); a titled Literal (`Annotated[Literal[...], Meta(title=...)]`)
    is the enum component of that title wherever it appears, and a titled union of Structs
    (an answer that is one of several error bodies) the `oneOf` component of that title.
    """

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return (
            field_definition.annotation is ValidationError
            or _is_named_enum(field_definition)
            or _union_component(field_definition) is not None
            or _is_any_object(field_definition)
        )

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: _SchemaCreator
    ) -> Schema:
        if field_definition.annotation is ValidationError:
            return cast(Schema, validation_error_schema())
        if _is_any_object(field_definition):
            # Litestar's `additionalProperties: {}` is an empty schema, which some generators
            # read as "no values" (`Record<string, never>`).
            return Schema(type=OpenAPIType.OBJECT, additional_properties=True)
        named = _enum_meta(field_definition.metadata)
        if named is not None:
            values = list(typing.get_args(field_definition.annotation))
            return cast(Schema, Reference(ref=_enum(*named, values=values)["$ref"]))
        # A union of Litestar-rendered Structs, registered with Litestar (which resolves the
        # members' names) under its `schema_component_key`.
        registry = schema_creator.schema_registry
        schema = registry.get_schema_for_field_definition(field_definition)
        schema.title = _union_component(field_definition)
        schema.one_of = [
            schema_creator.for_field_definition(FieldDefinition.from_annotation(arg))
            for arg in typing.get_args(field_definition.annotation)
        ]
        return cast(Schema, registry.get_reference_for_field_definition(field_definition))

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

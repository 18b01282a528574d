"""Request validation at the HTTP edge, answering in the contract's 422 format (§1.7, D7a).

Bodies and query sets are `msgspec.Struct` classes (`schemas.py`); `extra={"strip": True}` on a
string's `Meta` trims it before its length checks, `extra={"text": ...}` applies the domain's
control-character rule. A handler's `data: Shape` parameter is decoded by `decode_body` through
`ValidationPlugin`; query Structs declared with `query=` on the route are read with
`parse_query`; path ids routed as `{name:str}` and annotated `IntPath` are read with `path_int`.
What is accepted, and what the original accepted that is not: README, "Validation".
"""

from faros.entrypoints.http.validation.body import (
    decode_body,
    is_json_content_type,
)
from faros.entrypoints.http.validation.errors import (
    ErrorDict,
    RequestValidationError,
    describe_error,
    missing_error,
    value_error,
)
from faros.entrypoints.http.validation.plugin import (
    ValidationPlugin,
    body_schema,
    litestar_validation_errors,
)
from faros.entrypoints.http.validation.query import (
    IntPath,
    parse_query,
    path_int,
)

__all__ = [
    "ErrorDict",
    "IntPath",
    "RequestValidationError",
    "ValidationPlugin",
    "body_schema",
    "decode_body",
    "describe_error",
    "is_json_content_type",
    "litestar_validation_errors",
    "missing_error",
    "parse_query",
    "path_int",
    "value_error",
]

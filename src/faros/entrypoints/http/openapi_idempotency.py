"""A finishing step of the OpenAPI document: the Idempotency-Key header's answers.

Every operation that takes the `Idempotency-Key` header (routes marked `@idempotent`, see
idempotency.py) gets an example of its 400 (malformed key), 409 (key in use) and 422 (key
used with another request), next to the examples `attach_examples` placed, so a route made
idempotent needs no entry of its own in the examples table. The bodies are made by the code
that writes them, so they cannot drift from what the server sends. The header itself is
optional without a default value, which Litestar cannot say of a `str` parameter.
"""

from __future__ import annotations

from typing import Any, Final

from faros.domain.idempotency import (
    HEADER,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    MalformedIdempotencyKey,
)
from faros.entrypoints.http.validation import RequestValidationError, value_error

JSON: Final = "application/json"
EXAMPLE_KEY: Final = "8e03978e-40d5-43e8-bc93-6894a57f9324"


def _reused_body() -> dict[str, Any]:
    reused = IdempotencyKeyReused(EXAMPLE_KEY)
    body: dict[str, Any] = RequestValidationError(
        [value_error(reused.loc, reused.message, reused.value)]
    ).to_body()
    return body


# status -> (example name, summary, body)
_ANSWERS: Final[dict[str, tuple[str, str, dict[str, Any]]]] = {
    "400": (
        "idempotency_key_malformed",
        "`Idempotency-Key` malformed, or sent twice",
        {"detail": MalformedIdempotencyKey().message},
    ),
    "409": (
        "idempotency_key_in_use",
        "The first request with this `Idempotency-Key` has not finished",
        {"detail": IdempotencyKeyInUse().message},
    ),
    "422": (
        "idempotency_key_reused",
        "`Idempotency-Key` already used with another request",
        _reused_body(),
    ),
}


def _key_parameter(operation: dict[str, Any]) -> dict[str, Any] | None:
    for parameter in operation.get("parameters") or ():
        if parameter.get("in") == "header" and parameter.get("name") == HEADER:
            found: dict[str, Any] = parameter
            return found
    return None


def _add(media: dict[str, Any], name: str, summary: str, value: Any) -> None:
    examples: dict[str, Any] = media.setdefault("examples", {})
    if "example" in media:
        # A lone example becomes a named one, beside this one.
        examples["example"] = {"value": media.pop("example")}
    examples[name] = {"summary": summary, "value": value}


def add_idempotency_examples(document: dict[str, Any]) -> None:
    for path_item in (document.get("paths") or {}).values():
        for operation in path_item.values():
            parameter = None if not isinstance(operation, dict) else _key_parameter(operation)
            if parameter is None:
                continue
            # Litestar documents the Python default ("", which means "not sent"); a generated
            # client would send it, and an empty key is malformed.
            parameter.get("schema", {}).pop("default", None)
            for status, (name, summary, value) in _ANSWERS.items():
                response = (operation.get("responses") or {}).get(status) or {}
                media = (response.get("content") or {}).get(JSON)
                if media is not None:
                    _add(media, name, summary, value)

"""A finishing step of the OpenAPI document: the Idempotency-Key header and its answers.

Every operation of a route marked `@idempotent` (idempotency.py) gets the header parameter
(its handler reads the header itself, so Litestar does not document it) and an example of its
400 (malformed key), 409 (key in use) and 422 (key used with another request), next to the
examples `attach_examples` placed, so a route made idempotent needs no entry of its own in the
examples table. The bodies are made by the code that writes them, so they cannot drift from
what the server sends.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from faros.domain.idempotency import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    MalformedIdempotencyKey,
)
from faros.entrypoints.http.idempotency import KEY_PARAMETER, takes_key
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


def _add(media: dict[str, Any], name: str, summary: str, value: Any) -> None:
    examples: dict[str, Any] = media.setdefault("examples", {})
    if "example" in media:
        # A lone example becomes a named one, beside this one.
        examples["example"] = {"value": media.pop("example")}
    examples[name] = {"summary": summary, "value": value}


def add_idempotency_examples(document: dict[str, Any]) -> None:
    for path_item in (document.get("paths") or {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or not takes_key(operation.get("operationId", "")):
                continue
            operation.setdefault("parameters", []).append(copy.deepcopy(KEY_PARAMETER))
            for status, (name, summary, value) in _ANSWERS.items():
                response = (operation.get("responses") or {}).get(status) or {}
                media = (response.get("content") or {}).get(JSON)
                if media is not None:
                    _add(media, name, summary, value)

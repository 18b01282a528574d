"""A finishing step: each protected operation says what an access token needs for it.

The requirement lives in one table (scopes.py), keyed by path and operationId, which is all a
document step sees; so one step writes it into every protected operation rather than each
route repeating it: a sentence at the end of the description, and the 403 `insufficient_scope`
answer (RFC 6750 §3.1) among its responses, whose body is the usual `{detail}`.
"""

from __future__ import annotations

from typing import Any, Final

from faros.domain.api_tokens import LOGIN_ONLY
from faros.entrypoints.http.openapi import BEARER_SCHEME
from faros.entrypoints.http.scopes import requirement

Document = dict[str, Any]

_REFS: Final = "#/components/schemas/"
# A 403 of Family A alone becomes "Family A or B", the shape a refusal by scope adds.
_WIDER: Final = {f"{_REFS}TaskForbiddenBody": f"{_REFS}ForbiddenOrRefused"}


def _refusal(need: str) -> str:
    if need == LOGIN_ONLY:
        return (
            "a request with an access token: this needs a login "
            '(`WWW-Authenticate: Bearer error="insufficient_scope"`)'
        )
    return (
        f"an access token without the `{need}` scope "
        f'(`WWW-Authenticate: Bearer error="insufficient_scope", scope="{need}"`)'
    )


def _sentence(need: str) -> str:
    if need == LOGIN_ONLY:
        return "Access tokens cannot use this route: it needs a login (JWT or cookie)."
    return f"An access token needs the `{need}` scope."


def _protected(operation: Document) -> bool:
    # Logout documents the bearer scheme too, but also `{}`: it is not behind the guard.
    security = operation.get("security") or []
    return any(BEARER_SCHEME in entry for entry in security) and {} not in security


def document_scopes(document: Document) -> None:
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict) or not _protected(operation):
                continue
            need = requirement(path, {}, operation.get("operationId", ""))
            if need is None:
                continue  # the completeness test names it
            described = operation.get("description", "")
            operation["description"] = f"{described}\n\n{_sentence(need)}".strip()
            _document_refusal(operation.setdefault("responses", {}), need)


def _document_refusal(responses: Document, need: str) -> None:
    """Name the scope in the 403 the route declares (protected_errors declares one always)."""
    found = responses.get("403")
    if found is None:
        return  # tests/http/security/test_openapi_document.py wants it declared on the route
    found["description"] = f"{found.get('description', '')}. This route: {_refusal(need)}"
    schema = found.get("content", {}).get("application/json", {}).get("schema", {})
    wider = _WIDER.get(schema.get("$ref", ""))
    if wider is not None:
        schema["$ref"] = wider

"""What the OpenAPI document says beyond each handler's success: errors, security, uploads.

Litestar documents an operation from its handler: the success status and the return type.
Every other answer a route can give — the error families of API.md §1.6, D4's CSRF refusal,
413, 429, 503 — is declared here, in ONE table keyed by `"METHOD /path"`, and applied by
`ValidationPlugin` (validation.py) while the document is built. The table must name every
route of the app (a test checks it), so a new route cannot silently go undocumented.

Protected operations (those behind the `authenticated` guard) also get the two security
schemes of §1.3: a bearer token, or the `access_token` cookie.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from litestar.openapi.spec import (
    Components,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)

__all__ = [
    "BEARER_SCHEME",
    "COOKIE_SCHEME",
    "ROUTE_RESPONSES",
    "document_operation",
    "route_key",
    "security_components",
]

BEARER_SCHEME: Final = "bearerAuth"
COOKIE_SCHEME: Final = "cookieAuth"

# --- Body shapes (API.md §1.6, D7, D7a) -----------------------------------------------------------


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


_STR: Final[dict[str, Any]] = {"type": "string"}
_INT: Final[dict[str, Any]] = {"type": "integer"}

DETAIL: Final = _object(detail=_STR)
"""Family B: `{"detail": "<text>"}`."""
TASK_NOT_FOUND: Final = _object(error=_STR, message=_STR, task_id=_INT)
TASK_FORBIDDEN: Final = _object(error=_STR, message=_STR)
TAG_NOT_FOUND: Final = _object(error=_STR, message=_STR, task_id=_INT, tag=_STR)
DUPLICATE_USER: Final = _object(
    error=_STR, message=_STR, field={"type": "string", "enum": ["username", "email"]}
)
BAD_LOGIN: Final = _object(error=_STR, message=_STR)
RATE_LIMITED: Final = _object(error=_STR)
VALIDATION: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["detail", "errors"],
    "properties": {
        "detail": _STR,
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["type", "loc", "msg", "input"],
                "properties": {
                    "type": _STR,
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": _STR,
                    "input": {},
                    "ctx": {"type": "object"},
                },
            },
        },
    },
}


def _either(*shapes: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": list(shapes)}


# --- Replies ------------------------------------------------------------------------------------

_BEARER_CHALLENGE: Final = {
    "WWW-Authenticate": OpenAPIHeader(
        schema=Schema(type=None, const="Bearer"),
        description="Always `Bearer` (§1.3).",
        required=True,
    )
}
_RATE_HEADERS: Final = {
    "Retry-After": OpenAPIHeader(schema=Schema(type=None), description="Seconds to wait."),
    "RateLimit-Policy": OpenAPIHeader(schema=Schema(type=None), description="IETF draft."),
    "RateLimit": OpenAPIHeader(schema=Schema(type=None), description="IETF draft."),
}


class Reply:
    """One documented answer: a description, a JSON body shape (or none) and its headers."""

    __slots__ = ("description", "headers", "media_type", "shape")

    def __init__(
        self,
        description: str,
        shape: dict[str, Any] | None = DETAIL,
        *,
        headers: Mapping[str, OpenAPIHeader] | None = None,
        media_type: str = "application/json",
    ) -> None:
        self.description = description
        self.shape = shape
        self.headers: dict[str, OpenAPIHeader | Reference] | None = (
            dict(headers) if headers else None
        )
        self.media_type = media_type

    def response(self) -> OpenAPIResponse:
        content = None
        if self.shape is not None:
            content = {self.media_type: OpenAPIMediaType(schema=_schema(self.shape))}
        return OpenAPIResponse(
            description=self.description,
            content=content,
            headers=self.headers,
        )


def _schema(shape: dict[str, Any]) -> Schema:
    # Litestar serialises a plain dict where a Schema is expected; it keeps JSON-schema keywords
    # (anyOf, const, type lists) exactly as written.
    schema: Schema = shape  # type: ignore[assignment]
    return schema


UNAUTHENTICATED: Final = Reply(
    "Not authenticated, or the token is invalid, expired, revoked or of an unknown user",
    headers=_BEARER_CHALLENGE,
)
CSRF_REFUSED: Final = Reply(
    "Cross-site write refused: cookie-authenticated (or login, registration) from an origin"
    " outside the CORS allow-list, or `Sec-Fetch-Site` cross-site without an allowed origin (D4)"
)
INVALID: Final = Reply(
    "Validation error (D7a: `detail` is one sentence, `errors` the list)", VALIDATION
)
TOO_LARGE: Final = Reply("Request body too large")
RATE: Final = Reply("Rate limit exceeded", RATE_LIMITED, headers=_RATE_HEADERS)
TASK_404: Final = Reply("Task not found", TASK_NOT_FOUND)
TASK_403: Final = Reply("No permission on this task", TASK_FORBIDDEN)
STORAGE_DOWN: Final = Reply("File storage is unavailable")

Responses = dict[int, Reply]


def _protected(*, writes: bool, body: bool = False, limited: bool = False) -> Responses:
    """What every authenticated route can answer before its own logic runs (§1.8)."""
    replies: Responses = {401: UNAUTHENTICATED}
    if writes:
        replies[403] = CSRF_REFUSED
    if body:
        replies[413] = TOO_LARGE
        replies[422] = INVALID
    if limited:
        replies[429] = RATE
    return replies


def _public(*, writes: bool, body: bool = False, limited: bool = False) -> Responses:
    replies: Responses = {}
    if writes:
        replies[403] = CSRF_REFUSED
    if body:
        replies[413] = TOO_LARGE
        replies[422] = INVALID
    if limited:
        replies[429] = RATE
    return replies


def _task_route(*, writes: bool, body: bool = False, needs: str = "view") -> Responses:
    """A `/tasks/{task_id}...` route: 422 for a non-integer id, Family-A 404 and 403."""
    replies = _protected(writes=writes, body=body)
    replies[422] = INVALID
    replies[404] = TASK_404
    replies[403] = (
        Reply(
            f"Needs {needs} permission (Family A), or a refused cross-site write (D4)",
            _either(TASK_FORBIDDEN, DETAIL),
        )
        if writes
        else TASK_403
    )
    return replies


_COMMENT_403: Final = Reply(
    "No access to the comment's task (Family A), not its author (Family B), or a refused "
    "cross-site write (D4)",
    _either(TASK_FORBIDDEN, DETAIL),
)
_FILE_403: Final = Reply(
    "No permission on the file's task (Family A), or a refused cross-site write (D4)",
    _either(TASK_FORBIDDEN, DETAIL),
)
_SHARE_404: Final = Reply(
    "Task not found (Family A), or no such user / no such share (Family B)",
    _either(TASK_NOT_FOUND, DETAIL),
)

_UPLOAD_BODY: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"}},
}

ROUTE_RESPONSES: Final[dict[str, Responses]] = {
    # --- service
    "GET /": {},
    "GET /favicon.ico": {},
    "GET /health": {
        503: Reply(
            "The database cannot be reached (D6)", {"$ref": "#/components/schemas/HealthOut"}
        )
    },
    "GET /version": {},
    "GET /openapi.json": {},
    # --- auth
    "POST /auth/register": {
        **_public(writes=True, body=True, limited=True),
        409: Reply("Username or e-mail already registered", DUPLICATE_USER),
    },
    "POST /auth/login": {
        **_public(writes=True, body=True, limited=True),
        401: Reply("Invalid username or password", BAD_LOGIN, headers=_BEARER_CHALLENGE),
    },
    "POST /auth/logout": _public(writes=True),
    "POST /auth/password-reset/request": _public(writes=True, body=True, limited=True),
    "POST /auth/password-reset/verify": {
        **_public(writes=True, body=True, limited=True),
        400: Reply("Invalid or expired reset token"),
    },
    # --- tasks
    "GET /tasks": {**_protected(writes=False), 422: INVALID},
    "POST /tasks": _protected(writes=True, body=True, limited=True),
    "GET /tasks/stats": _protected(writes=False),
    "PATCH /tasks/bulk": {
        **_protected(writes=True, body=True),
        400: Reply("No fields provided for update"),
        403: Reply(
            "No edit permission on one of the tasks (Family A), or a refused cross-site write (D4)",
            _either(TASK_FORBIDDEN, DETAIL),
        ),
        404: Reply("Some tasks do not exist: `Tasks not found: [<ids>]`"),
    },
    "GET /tasks/shared-with-me": _protected(writes=False),
    "GET /tasks/{task_id}": _task_route(writes=False),
    "PATCH /tasks/{task_id}": {
        **_task_route(writes=True, body=True, needs="edit"),
        400: Reply("No fields provided for update"),
    },
    "DELETE /tasks/{task_id}": _task_route(writes=True, needs="owner"),
    "POST /tasks/{task_id}/tags": _task_route(writes=True, body=True, needs="edit"),
    "DELETE /tasks/{task_id}/tags/{tag}": {
        **_task_route(writes=True, needs="edit"),
        404: Reply(
            "Task not found, or the task has no such tag (Family A)",
            _either(TASK_NOT_FOUND, TAG_NOT_FOUND),
        ),
    },
    # --- sharing
    "GET /tasks/{task_id}/shares": _task_route(writes=False, needs="owner"),
    "POST /tasks/{task_id}/share": {
        **_task_route(writes=True, body=True, needs="owner"),
        400: Reply("Cannot share task with yourself"),
        404: _SHARE_404,
        409: Reply("Task already shared with this user"),
    },
    "PUT /tasks/{task_id}/share/{username}": {
        **_task_route(writes=True, body=True, needs="owner"),
        404: _SHARE_404,
    },
    "DELETE /tasks/{task_id}/share/{username}": {
        **_task_route(writes=True, needs="owner"),
        404: _SHARE_404,
    },
    # --- comments
    "POST /tasks/{task_id}/comments": _task_route(writes=True, body=True),
    "GET /tasks/{task_id}/comments": _task_route(writes=False),
    "PATCH /comments/{comment_id}": {
        **_protected(writes=True, body=True),
        403: _COMMENT_403,
        404: Reply("Comment not found"),
    },
    "DELETE /comments/{comment_id}": {
        **_protected(writes=True),
        422: INVALID,
        403: _COMMENT_403,
        404: Reply("Comment not found"),
    },
    # --- files
    "POST /tasks/{task_id}/files": {
        **_task_route(writes=True, body=True, needs="edit"),
        400: Reply(
            "File type not allowed, too large, or its content does not match its type; a name "
            "with control characters or over 255 characters; a content type that is not one "
            "media type"
        ),
        429: RATE,
        503: STORAGE_DOWN,
    },
    "GET /tasks/{task_id}/files": _task_route(writes=False),
    "GET /files/{file_id}": {
        **_protected(writes=False),
        422: INVALID,
        403: TASK_403,
        404: Reply("No such file, or its stored object is missing"),
        503: STORAGE_DOWN,
    },
    "DELETE /files/{file_id}": {
        **_protected(writes=True),
        422: INVALID,
        403: _FILE_403,
        404: Reply("No such file"),
    },
    # --- notifications
    "GET /notifications/preferences": _protected(writes=False),
    "PATCH /notifications/preferences": _protected(writes=True, body=True),
    "POST /notifications/subscribe": _protected(writes=True),
    "POST /notifications/send-verification": _protected(writes=True, limited=True),
    "POST /notifications/verify": {
        **_public(writes=True, body=True, limited=True),
        400: Reply("Invalid or expired verification token"),
    },
    "GET /notifications/verify": {**_public(writes=False, limited=True), 422: INVALID},
    # --- activity
    "GET /activity": {**_protected(writes=False), 422: INVALID},
    "GET /activity/stats": _protected(writes=False),
    "GET /activity/tasks/{task_id}": _task_route(writes=False),
    # --- users
    "GET /users/me": _protected(writes=False),
    "PATCH /users/me/change-password": {
        **_protected(writes=True, body=True, limited=True),
        400: Reply("Current password is incorrect (D9)"),
    },
    "GET /users/search": {**_protected(writes=False), 422: INVALID},
    "POST /users/me/avatar": {
        **_protected(writes=True, body=True),
        400: Reply(
            "Not an allowed image, or too large; a name with control characters or over 255 "
            "characters"
        ),
        503: STORAGE_DOWN,
    },
    "GET /users/{user_id}/{segment}": {
        422: INVALID,
        404: Reply("No such avatar (`segment` is `avatar.<ext>`)"),
        503: STORAGE_DOWN,
    },
}

# Success bodies Litestar cannot infer: streamed downloads carry the stored file's own type.
_SUCCESS_OVERRIDES: Final[dict[str, tuple[int, Reply]]] = {
    "GET /files/{file_id}": (
        200,
        Reply("The stored bytes", {"type": "string", "format": "binary"}, media_type="*/*"),
    ),
    "GET /users/{user_id}/{segment}": (
        200,
        Reply("The avatar image", {"type": "string", "format": "binary"}, media_type="image/*"),
    ),
}

# The two uploads read one multipart part named `file` (§1.1).
_MULTIPART: Final = frozenset({"POST /tasks/{task_id}/files", "POST /users/me/avatar"})


def route_key(method: str, path: str) -> str:
    """`"GET /tasks/{task_id}"` from a Litestar route path such as `/tasks/{task_id:str}`."""
    parts = []
    for segment in path.split("/"):
        if segment.startswith("{") and ":" in segment:
            segment = segment.split(":", 1)[0] + "}"
        parts.append(segment)
    return f"{method.upper()} {'/'.join(parts) or '/'}"


def document_operation(operation: Operation, key: str, *, protected: bool) -> None:
    """Add the table's answers, the security requirement and upload bodies to `operation`."""
    replies = ROUTE_RESPONSES.get(key)
    if replies is None:
        raise LookupError(f"{key} is missing from openapi.ROUTE_RESPONSES")
    responses = operation.responses if operation.responses is not None else {}
    for status, reply in sorted(replies.items()):
        responses[str(status)] = reply.response()
    override = _SUCCESS_OVERRIDES.get(key)
    if override is not None:
        status, reply = override
        responses[str(status)] = reply.response()
    operation.responses = responses
    if key in _MULTIPART and operation.request_body is None:
        operation.request_body = RequestBody(
            required=True,
            content={"multipart/form-data": OpenAPIMediaType(schema=_schema(_UPLOAD_BODY))},
        )
    if protected:
        operation.security = [{BEARER_SCHEME: []}, {COOKIE_SCHEME: []}]


def security_components(cookie_name: str = "access_token") -> Components:
    """The document's `components.securitySchemes` (§1.3: Bearer first, then the cookie)."""
    return Components(
        security_schemes={
            BEARER_SCHEME: SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
            COOKIE_SCHEME: SecurityScheme(
                type="apiKey", name=cookie_name, security_scheme_in="cookie"
            ),
        }
    )

"""The error answers routes declare in the OpenAPI document, and its security schemes.

Litestar documents an operation's success from its handler. Every other answer a route can
give — the error families of API.md §1.6, D4's CSRF refusal, 413, 422, 429, 503 — is declared
on the route itself (`responses=`), from the groups below; protected routers declare
`security=PROTECTED` (§1.3: a bearer token, or the `access_token` cookie).

Litestar's `ResponseSpec` has no headers yet, so the `WWW-Authenticate` and rate-limit headers
are named in the descriptions; a success answer's headers (`Location`, `Set-Cookie`) are
declared with `response_headers=` and sent by the handler itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Final

from litestar.datastructures import ResponseHeader
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import (
    Components,
    Encoding,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
    SecurityRequirement,
    SecurityScheme,
    Tag,
)

from faros.domain.files import ATTACHMENT_TYPES, AVATAR_TYPES
from faros.entrypoints.http.error_bodies import (
    Detail,
    ForbiddenOrRefused,
    RateLimitedBody,
    TaskForbiddenBody,
    TaskNotFoundBody,
    ValidationError,
)

__all__ = [
    "AUTH_COOKIE_SET",
    "BEARER_SCHEME",
    "COOKIE_SCHEME",
    "INVALID",
    "OPTIONALLY_AUTHENTICATED",
    "PROTECTED",
    "RATE_LIMITED",
    "STORAGE_DOWN",
    "TAGS",
    "TASK_FORBIDDEN",
    "TASK_NOT_FOUND",
    "UPLOAD_SCHEMAS",
    "AvatarDownloadOperation",
    "AvatarUploadOperation",
    "FileDownloadOperation",
    "FileUploadOperation",
    "Responses",
    "binary_headers",
    "location",
    "operation_id",
    "protected_errors",
    "public_errors",
    "reply",
    "security_components",
    "task_errors",
]

BEARER_SCHEME: Final = "bearerAuth"
COOKIE_SCHEME: Final = "cookieAuth"
PROTECTED: Final[list[SecurityRequirement]] = [{BEARER_SCHEME: []}, {COOKIE_SCHEME: []}]
"""`security=` of the routers behind the `authenticated` guard."""
OPTIONALLY_AUTHENTICATED: Final[list[SecurityRequirement]] = [*PROTECTED, {}]
"""`security=` of a route that uses a credential when one is sent but also answers without
(logout): generated clients then attach their token, and may still call it anonymously."""

TAGS: Final = [
    Tag(name="service", description="Is FAROS up, and which version is it."),
    Tag(
        name="auth",
        description="Accounts and sessions: register, log in (a bearer token and the same token "
        "as a cookie), log out, reset a forgotten password.",
    ),
    Tag(
        name="tasks",
        description="Your tasks: create, list, filter, read, update (one or many), tag, delete, "
        "and their statistics; also the tasks others share with you.",
    ),
    Tag(
        name="sharing",
        description="A task's owner gives other users `view` or `edit` permission on it.",
    ),
    Tag(
        name="comments",
        description="Comments on tasks: anyone who can view a task may comment on it.",
    ),
    Tag(name="files", description="Files attached to tasks: upload, list, download, delete."),
    Tag(
        name="notifications",
        description="E-mail notification preferences and e-mail address verification.",
    ),
    Tag(
        name="activity",
        description="The activity log: your feed, its counts, and one task's history.",
    ),
    Tag(name="users", description="Your profile, password and avatar; finding other users."),
    Tag(
        name="tokens",
        description="Personal access tokens for scripts and services, managed with a login. "
        "Send one as `Authorization: Bearer faros_pat_…` on any protected route; each "
        "route's description names the scope it needs. A token without it gets 403 with "
        '`WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` (RFC 6750); routes '
        "that manage credentials or the account (`/tokens`, `/webhooks`, password, avatar, "
        "e-mail settings) need a login, and answer a token 403 `insufficient_scope` without "
        "`scope`. An unknown, expired or revoked token gets the same 401 as an invalid JWT. "
        "A password change keeps the account's tokens; a password reset revokes them all.",
    ),
    Tag(
        name="webhooks",
        description="Signed HTTP callbacks (Standard Webhooks) for events about your tasks and "
        "the tasks shared with you; a login only, not an API token.",
    ),
]
"""`OpenAPIConfig(tags=...)`: what each router's tag groups, in the order the document shows."""

Responses = dict[int, ResponseSpec]


def reply(body: Any, description: str, media_type: str = "application/json") -> ResponseSpec:
    """One documented answer; `body` is its shape (a Struct, a union of them, or `None`)."""
    return ResponseSpec(
        data_container=body,
        description=description,
        media_type=media_type,
        generate_examples=False,
    )


UNAUTHENTICATED: Final = reply(
    Detail,
    "Not authenticated, or the token is invalid, expired, revoked or of an unknown user "
    "(`WWW-Authenticate: Bearer`)",
)
CSRF_REFUSED: Final = reply(
    Detail,
    "Cross-site write refused: cookie-authenticated (or login, registration) from an origin"
    " outside the CORS allow-list, or `Sec-Fetch-Site` cross-site without an allowed origin (D4)",
)
INVALID: Final = reply(
    ValidationError, "Validation error (D7a: `detail` is one sentence, `errors` the list)"
)
TOO_LARGE: Final = reply(Detail, "Request body too large")
RATE_LIMITED: Final = reply(
    RateLimitedBody,
    "Rate limit exceeded (headers `Retry-After`, `RateLimit-Policy`, `RateLimit`, D18)",
)
TASK_NOT_FOUND: Final = reply(TaskNotFoundBody, "Task not found")
TASK_FORBIDDEN: Final = reply(TaskForbiddenBody, "No permission on this task")
STORAGE_DOWN: Final = reply(Detail, "File storage is unavailable")


def location(points_at: str, example: str) -> list[ResponseHeader]:
    """`response_headers=` of a 201 route: the `Location` its handler sends (RFC 9110 §10.2.2).

    Documentation only: the value is the created resource's own URL, set per response.
    """
    return [
        ResponseHeader(
            name="Location",
            value=example,
            example=example,
            description=f"URL of {points_at}",
            documentation_only=True,
            required=True,
        )
    ]


AUTH_COOKIE_SET: Final = [
    ResponseHeader(
        name="Set-Cookie",
        value="access_token=<jwt>; HttpOnly; Max-Age=43200; Path=/; SameSite=Lax",
        example="access_token=<jwt>; HttpOnly; Max-Age=43200; Path=/; SameSite=Lax",
        description=(
            "The auth cookie holding the same token: `access_token` by default (the "
            "`cookie_name` setting), `HttpOnly`, lasting as long as the token; `Secure` and "
            "`SameSite=None` in production"
        ),
        documentation_only=True,
        required=True,
    )
]
"""`response_headers=` of login: cookie clients (browsers) keep their session through it."""


def public_errors(*, writes: bool, body: bool = False, limited: bool = False) -> Responses:
    """What a public route can answer before its own logic runs (§1.8)."""
    replies: Responses = {}
    if writes:
        replies[403] = CSRF_REFUSED
    if body:
        replies[413] = TOO_LARGE
        replies[422] = INVALID
    if limited:
        replies[429] = RATE_LIMITED
    return replies


INSUFFICIENT_SCOPE: Final = (
    "an access token without the scope this route needs, or on a route that needs a login "
    '(`WWW-Authenticate: Bearer error="insufficient_scope"`, RFC 6750; see the `tokens` tag)'
)


def protected_errors(*, writes: bool, body: bool = False, limited: bool = False) -> Responses:
    """What a route behind the `authenticated` guard can answer before its own logic runs."""
    replies = {401: UNAUTHENTICATED, **public_errors(writes=writes, body=body, limited=limited)}
    # Any protected route refuses an access token that lacks its scope (scopes.py).
    refused = replies.get(403)
    replies[403] = reply(
        Detail,
        f"{INSUFFICIENT_SCOPE[0].upper()}{INSUFFICIENT_SCOPE[1:]}"
        if refused is None
        else f"{refused.description}; or {INSUFFICIENT_SCOPE}",
    )
    return replies


def task_errors(*, writes: bool, body: bool = False, needs: str = "view") -> Responses:
    """A `/tasks/{task_id}...` route: 422 for a non-integer id, Family-A 404 and 403."""
    forbidden = (
        reply(
            ForbiddenOrRefused,
            f"Needs {needs} permission (Family A), or a refused cross-site write (D4); or "
            f"{INSUFFICIENT_SCOPE}",
        )
        if writes
        else reply(ForbiddenOrRefused, f"No permission on this task; or {INSUFFICIENT_SCOPE}")
    )
    return {
        **protected_errors(writes=writes, body=body),
        422: INVALID,
        404: TASK_NOT_FOUND,
        403: forbidden,
    }


def _binary(description: str | None = None) -> Schema:
    return Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description=description)


def _upload(description: str, part: str) -> Schema:
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["file"],
        properties={"file": _binary(part)},
        description=description,
    )


UPLOAD_SCHEMAS: Final[dict[str, Schema]] = {
    "FileUpload": _upload(
        "A task attachment: one multipart part `file`.",
        "The file, at most 10 MiB, named with an allowed extension (.doc .docx .gif .jpeg .jpg "
        ".pdf .png .txt); its bytes must match that extension",
    ),
    "AvatarUpload": _upload(
        "An avatar: one multipart part `file`.",
        "A PNG, JPEG, GIF or WebP image of at most 5 MiB; its format is read from its bytes, "
        "whatever type the part declares",
    ),
}
"""`components.schemas` of the two upload bodies. Litestar fills that map from the types its
handlers use, and the upload handlers take no body parameter, so openapi_uploads.py adds them."""


@dataclass
class _MultipartUpload(Operation):
    """The request body of an upload route: one multipart part `file`.

    The routes read that part as a stream (uploads.py) instead of declaring a `data`
    parameter, whose multipart parsing would hold the whole body in memory; so the request
    body is declared here, as a named schema and the types the part may declare.
    """

    schema_name: ClassVar[str]
    part_types: ClassVar[tuple[str, ...]]

    def __post_init__(self) -> None:
        encoding = Encoding(content_type=", ".join(self.part_types))
        self.request_body = RequestBody(
            required=True,
            content={
                "multipart/form-data": OpenAPIMediaType(
                    schema=Reference(ref=f"#/components/schemas/{self.schema_name}"),
                    encoding={"file": encoding},
                )
            },
        )


@dataclass
class FileUploadOperation(_MultipartUpload):
    """`operation_class=` of `POST /tasks/{task_id}/files`."""

    schema_name = "FileUpload"
    part_types = ATTACHMENT_TYPES


@dataclass
class AvatarUploadOperation(_MultipartUpload):
    """`operation_class=` of `POST /users/me/avatar`."""

    schema_name = "AvatarUpload"
    part_types = AVATAR_TYPES


@dataclass
class _BinaryDownload(Operation):
    """The 200 of a streamed download: raw bytes, under each type the server may send.

    Litestar documents a `Stream` answer as JSON of any shape. Listing the real types keeps
    the `Content-Type` header documented (OpenAPI ignores a `Content-Type` entry in
    `headers`); `application/octet-stream` comes first because it is the one type
    openapi-python-client 0.29 reads as bytes (a `File`), and it takes the first type it knows.
    """

    media_types: ClassVar[tuple[str, ...]]

    def __post_init__(self) -> None:
        if self.responses is None:
            return
        # Litestar documents a 400 "Validation Exception" for any route with parameters; the
        # validation plugin drops it only from routes on the default `Operation`, and a
        # download answers a bad path parameter with the 422 its route declares.
        self.responses.pop("400", None)
        success = self.responses["200"]
        if isinstance(success, Reference):
            return
        success.content = {
            media_type: OpenAPIMediaType(schema=_binary()) for media_type in self.media_types
        }


@dataclass
class FileDownloadOperation(_BinaryDownload):
    """`operation_class=` of `GET /files/{file_id}`: octet-stream is what a file uploaded
    without a declared type is sent as; the others are the allowed extensions' types."""

    media_types = ATTACHMENT_TYPES


@dataclass
class AvatarDownloadOperation(_BinaryDownload):
    """`operation_class=` of the public avatar: always one of the four image types. The
    octet-stream entry is there for generators only (see `_BinaryDownload`)."""

    media_types = ("application/octet-stream", *AVATAR_TYPES)


def binary_headers(*extra: ResponseHeader) -> list[ResponseHeader]:
    """`response_headers=` of a download: what its handler sends with every 200."""
    return [
        *extra,
        ResponseHeader(
            name="Content-Length",
            value="1024",
            description="The size in bytes",
            documentation_only=True,
            required=True,
        ),
        ResponseHeader(
            name="X-Content-Type-Options",
            value="nosniff",
            description="`nosniff`: browsers use the declared type, never a guess from the bytes",
            documentation_only=True,
            required=True,
        ),
    ]


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


def operation_id(route_handler: HTTPRouteHandler, http_method: Any, path_components: Any) -> str:
    """The handler's own name (`list_tasks`, `get_task`): snake_case, and stable as long as the
    handler keeps its name, which is what generated clients name their methods after. Each
    FAROS handler serves one method, so the name alone is unique (a test checks it)."""
    return route_handler.handler_name

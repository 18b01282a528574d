"""Exception → response mapping for the whole app (API.md §1.6, D7, D7a, D18).

Install with `Litestar(..., exception_handlers=exception_handlers())`. Litestar looks a
handler up by walking the exception's MRO, so the specific domain errors (Family A) win over
their Family-B parents, and `Exception` catches everything else as a JSON 500. The CORS
middleware wraps Litestar's exception middleware, so every one of these responses — 500s
included — carries the CORS headers (D5).

All bodies are JSON (`Content-Type: application/json`, non-ASCII emitted raw by msgspec).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Final

from litestar import Request, Response
from litestar.enums import MediaType
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_401_UNAUTHORIZED,
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from python_multipart.exceptions import ParseError as MultipartBodyError

from faros.domain.api_tokens import InsufficientScope
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
from faros.entrypoints.http.request_log import CLIENT_CLOSED_REQUEST, CLIENT_GONE
from faros.entrypoints.http.validation import (
    RequestValidationError,
    litestar_validation_errors,
    value_error,
)

__all__ = [
    "RateLimitExceeded",
    "exception_handlers",
    "json_error",
    "rate_limited_response",
    "ratelimit_policy",
    "validation_response",
]

logger = logging.getLogger("faros.http")

AnyRequest = Request[Any, Any, Any]
Handler = Callable[[AnyRequest, Any], Response[Any]]

_BEARER: Final = {"WWW-Authenticate": "Bearer"}
INTERNAL_ERROR: Final = "Internal Server Error"
BODY_TOO_LARGE: Final = "Request body too large"


def json_error(
    body: Mapping[str, Any], status_code: int, headers: Mapping[str, str] | None = None
) -> Response[Any]:
    return Response(
        content=dict(body),
        status_code=status_code,
        media_type=MediaType.JSON,
        headers=dict(headers) if headers else None,
    )


def _detail(
    status_code: int, message: str, headers: Mapping[str, str] | None = None
) -> Response[Any]:
    return json_error({"detail": message}, status_code, headers)


# --- Family A ---------------------------------------------------------------------------------


def _task_not_found(_: AnyRequest, exc: TaskNotFound) -> Response[Any]:
    return json_error(
        {"error": "Task Not Found", "message": exc.message, "task_id": exc.task_id},
        HTTP_404_NOT_FOUND,
    )


def _task_access_denied(_: AnyRequest, exc: TaskAccessDenied) -> Response[Any]:
    return json_error({"error": "Unauthorized Access", "message": exc.message}, HTTP_403_FORBIDDEN)


def _tag_not_found(_: AnyRequest, exc: TagNotFound) -> Response[Any]:
    return json_error(
        {"error": "Tag Not Found", "message": exc.message, "task_id": exc.task_id, "tag": exc.tag},
        HTTP_404_NOT_FOUND,
    )


def _duplicate_user(_: AnyRequest, exc: DuplicateUser) -> Response[Any]:
    return json_error(
        {"error": "Duplicate User", "message": exc.message, "field": exc.field}, HTTP_409_CONFLICT
    )


def _invalid_credentials(_: AnyRequest, exc: InvalidCredentials) -> Response[Any]:
    return json_error(
        {"error": "Authentication Failed", "message": exc.message}, HTTP_401_UNAUTHORIZED, _BEARER
    )


# --- Family B ---------------------------------------------------------------------------------


def _not_found(_: AnyRequest, exc: NotFound) -> Response[Any]:
    return _detail(HTTP_404_NOT_FOUND, exc.message)


def _forbidden(_: AnyRequest, exc: Forbidden) -> Response[Any]:
    return _detail(HTTP_403_FORBIDDEN, exc.message)


def _insufficient_scope(_: AnyRequest, exc: InsufficientScope) -> Response[Any]:
    # RFC 6750 §3.1; `scope` names what would have allowed it, and is left out when only a
    # login would (a route no access token may use).
    challenge = 'Bearer error="insufficient_scope"'
    if exc.scope is not None:
        challenge += f', scope="{exc.scope}"'
    return _detail(HTTP_403_FORBIDDEN, exc.message, {"WWW-Authenticate": challenge})


def _conflict(_: AnyRequest, exc: Conflict) -> Response[Any]:
    return _detail(HTTP_409_CONFLICT, exc.message)


def _invalid(_: AnyRequest, exc: Invalid) -> Response[Any]:
    return _detail(HTTP_400_BAD_REQUEST, exc.message)


def _authentication_failed(_: AnyRequest, exc: AuthenticationFailed) -> Response[Any]:
    return _detail(HTTP_401_UNAUTHORIZED, exc.message, _BEARER)


def _payload_too_large(_: AnyRequest, exc: PayloadTooLarge) -> Response[Any]:
    return _detail(HTTP_413_REQUEST_ENTITY_TOO_LARGE, exc.message)


def _service_unavailable(_: AnyRequest, exc: ServiceUnavailable) -> Response[Any]:
    return _detail(HTTP_503_SERVICE_UNAVAILABLE, exc.message)


# --- Validation (D7a) -------------------------------------------------------------------------


def validation_response(error: RequestValidationError) -> Response[Any]:
    return json_error(error.to_body(), HTTP_422_UNPROCESSABLE_ENTITY)


def _request_validation(_: AnyRequest, exc: RequestValidationError) -> Response[Any]:
    return validation_response(exc)


def _field_invalid(_: AnyRequest, exc: FieldInvalid) -> Response[Any]:
    return validation_response(
        RequestValidationError([value_error(exc.loc, exc.message, exc.value)])
    )


def _litestar_validation(_: AnyRequest, exc: ValidationException) -> Response[Any]:
    return validation_response(RequestValidationError(litestar_validation_errors(exc)))


MALFORMED_MULTIPART: Final = "Malformed multipart/form-data body"


def _malformed_multipart(_: AnyRequest, exc: MultipartBodyError) -> Response[Any]:
    # The upload parser's own errors (a broken boundary or part header) are bad input, not a
    # server fault: the upload routes answer them like any unreadable body, with a 422.
    return validation_response(
        RequestValidationError([value_error(("body",), MALFORMED_MULTIPART, None)])
    )


# --- Rate limiting (Family D, D18) ------------------------------------------------------------


def ratelimit_policy(name: str, quota: int, window_seconds: int) -> str:
    """A `RateLimit-Policy` value (IETF draft): `"login";q=5;w=60`."""
    return f'"{name}";q={quota};w={window_seconds}'


class RateLimitExceeded(Exception):
    """Raised by the limiter; rendered as the contract's 429 with the D18 headers.

    `limit_text` is the contract's wording (`"5 per 1 minute"`); `policy` a `RateLimit-Policy`
    value whose first item names the policy (`"login";q=5;w=60`); `reset` the seconds until
    the window resets (defaults to `retry_after`).
    """

    def __init__(
        self,
        limit_text: str,
        retry_after: int,
        policy: str,
        remaining: int = 0,
        reset: int | None = None,
    ) -> None:
        super().__init__(f"Rate limit exceeded: {limit_text}")
        self.limit_text = limit_text
        self.retry_after = retry_after
        self.policy = policy
        self.remaining = remaining
        self.reset = retry_after if reset is None else reset

    @property
    def ratelimit_header(self) -> str:
        name = self.policy.split(";", 1)[0].strip() or '"default"'
        return f"{name};r={self.remaining};t={self.reset}"


def rate_limited_response(
    limit_text: str, retry_after: int, policy_header: str, ratelimit_header: str
) -> Response[Any]:
    return json_error(
        {"error": f"Rate limit exceeded: {limit_text}"},
        HTTP_429_TOO_MANY_REQUESTS,
        {
            "Retry-After": str(retry_after),
            "RateLimit-Policy": policy_header,
            "RateLimit": ratelimit_header,
        },
    )


def _rate_limit_exceeded(_: AnyRequest, exc: RateLimitExceeded) -> Response[Any]:
    return rate_limited_response(exc.limit_text, exc.retry_after, exc.policy, exc.ratelimit_header)


# --- Framework and unexpected errors ----------------------------------------------------------


def _internal_error(request: AnyRequest, exc: Exception) -> Response[Any]:
    state = request.scope.get("state") or {}
    if state.get(CLIENT_GONE):
        # The client left mid-request (reading its body failed): not a fault of the server,
        # and nobody is left to answer. The request log records it as a 499.
        return _detail(CLIENT_CLOSED_REQUEST, "Client Closed Request")
    logger.error(
        "unhandled %s on %s %s",
        type(exc).__name__,
        request.method,
        request.scope.get("path", ""),
        exc_info=exc,
        extra={"request_id": state.get("request_id")},
    )
    return _detail(HTTP_500_INTERNAL_SERVER_ERROR, INTERNAL_ERROR)


def _http_exception(request: AnyRequest, exc: HTTPException) -> Response[Any]:
    status_code = exc.status_code
    if status_code == HTTP_503_SERVICE_UNAVAILABLE:
        return _detail(status_code, exc.detail, exc.headers)
    if status_code >= HTTP_500_INTERNAL_SERVER_ERROR:
        return _internal_error(request, exc)
    if isinstance(exc, RequestEntityTooLarge):
        return _detail(status_code, BODY_TOO_LARGE)
    headers = dict(exc.headers or {})
    if isinstance(exc, NotAuthorizedException):
        headers.setdefault("WWW-Authenticate", "Bearer")
    return _detail(status_code, exc.detail, headers)


def exception_handlers() -> dict[int | type[Exception], Handler]:
    """The app's handler map; pass it to `Litestar(exception_handlers=...)`."""
    return {
        TaskNotFound: _task_not_found,
        TagNotFound: _tag_not_found,
        TaskAccessDenied: _task_access_denied,
        DuplicateUser: _duplicate_user,
        InvalidCredentials: _invalid_credentials,
        NotFound: _not_found,
        InsufficientScope: _insufficient_scope,
        Forbidden: _forbidden,
        Conflict: _conflict,
        Invalid: _invalid,
        AuthenticationFailed: _authentication_failed,
        PayloadTooLarge: _payload_too_large,
        ServiceUnavailable: _service_unavailable,
        FieldInvalid: _field_invalid,
        RequestValidationError: _request_validation,
        RateLimitExceeded: _rate_limit_exceeded,
        ValidationException: _litestar_validation,
        MultipartBodyError: _malformed_multipart,
        HTTPException: _http_exception,
        Exception: _internal_error,
    }

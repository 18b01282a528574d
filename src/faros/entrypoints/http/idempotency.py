"""`Idempotency-Key` at the HTTP edge (draft-ietf-httpapi-idempotency-key-header).

A route becomes idempotent with one decorator line above its route decorator, `@idempotent`,
which documents the header and the 400, 409, 422 answers; its handler takes the `request` and
passes `idempotency=await idempotent_call(request, respond)` to its use case, `respond` being
the function that turns the use case's result into the `Response` the handler returns (an
upload: `Idempotency.of(request)`, whose `hashed` wraps the file's chunks). The use case
claims the key and keeps `respond`'s answer in its own transaction
(domain/services/idempotency.py).

Not a Litestar dependency: one without sub-dependencies joins the route's first batch, which
Litestar then resolves in an anyio task group, a cost every request would pay, key or not.

The fingerprint is a SHA-256 of the method, path, query and body. A JSON body is already held
by Litestar (`request.body()` caches it); an upload is hashed chunk by chunk as its stream is
read (`Idempotency.hashed`), over the file part's name, declared type and bytes: the multipart
boundary differs between two sendings of the same file by most clients, so the raw body would
make every retry "another request".

Requests without the header are untouched: `idempotent_call` gives `None`, and nothing is
read or stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Final, TypeVar

from litestar import Request, Response
from litestar.datastructures import ResponseHeader
from litestar.enums import MediaType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.serialization import get_serializer
from litestar.status_codes import HTTP_200_OK

from faros.domain.idempotency import (
    HEADER,
    KEY_IN_USE,
    KEY_PATTERN,
    MAX_KEY_LENGTH,
    Fingerprint,
    IdempotentReplay,
    MalformedIdempotencyKey,
    StoredResponse,
    parse_key,
)
from faros.domain.services.idempotency import IdempotentCall
from faros.entrypoints.http.error_bodies import Detail
from faros.entrypoints.http.openapi import INVALID, reply

__all__ = [
    "REPLAYED_HEADER",
    "Idempotency",
    "idempotency_handlers",
    "idempotent",
    "idempotent_call",
    "takes_key",
]

REPLAYED_HEADER: Final = "Idempotent-Replayed"
R = TypeVar("R")
AnyRequest = Request[Any, Any, Any]
Handler = TypeVar("Handler", bound=HTTPRouteHandler)


class Idempotency:
    """The request's key (or none) and its fingerprint, for the route's use case."""

    __slots__ = ("_fingerprint", "_request", "key")

    @classmethod
    def of(cls, request: AnyRequest) -> Idempotency:
        """The request's key; `MalformedIdempotencyKey` (400) for a bad or repeated one."""
        values = request.headers.getall(HEADER.lower(), [])
        if not values:
            return cls(request, None)
        if len(values) > 1:
            raise MalformedIdempotencyKey()
        return cls(request, parse_key(values[0]))

    def __init__(self, request: AnyRequest, key: str | None) -> None:
        self._request = request
        self.key = key
        self._fingerprint: Fingerprint | None = None
        if key is not None:
            query = request.scope.get("query_string", b"").decode("latin-1")
            self._fingerprint = Fingerprint(request.method, f"{request.scope['path']}?{query}")

    def add_body(self, body: bytes) -> None:
        if self._fingerprint is not None:
            self._fingerprint.add(body)

    def hashed(
        self, filename: str, content_type: str | None, chunks: AsyncIterator[bytes]
    ) -> AsyncIterator[bytes]:
        """An upload's bytes passed on unchanged, each chunk hashed into the fingerprint as
        it goes by, after the part's name and declared type (they count as its bytes do)."""
        fingerprint = self._fingerprint
        if fingerprint is None:
            return chunks
        fingerprint.add(filename.encode())
        fingerprint.add((content_type or "").encode())
        return _hashing(fingerprint, chunks)

    def rendering(self, respond: Callable[[R], Response[Any]]) -> IdempotentCall[R] | None:
        """What the use case receives: `None` without a key."""
        fingerprint = self._fingerprint
        if self.key is None or fingerprint is None:
            return None
        request = self._request

        def render(result: R) -> StoredResponse:
            return stored(request, respond(result))

        return IdempotentCall(self.key, fingerprint.digest, render)


async def _hashing(fingerprint: Fingerprint, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        fingerprint.add_chunk(chunk)
        yield chunk


def stored(request: AnyRequest, response: Response[Any]) -> StoredResponse:
    """The bytes and headers the route would send for `response`, as Litestar encodes them."""
    handler = request.route_handler
    chosen = response.media_type or handler.media_type or MediaType.JSON
    media_type = chosen.value if isinstance(chosen, MediaType) else chosen
    encoder = get_serializer(handler.resolve_type_encoders())
    body = response.render(response.content, media_type, encoder)
    status = response.status_code or handler.status_code or HTTP_200_OK
    return StoredResponse(status, media_type, body, response.headers.get("Location"))


async def idempotent_call(
    request: AnyRequest, respond: Callable[[R], Response[Any]]
) -> IdempotentCall[R] | None:
    """For a route with a JSON body: its use case's `idempotency` (`None` without a key)."""
    idempotency = Idempotency.of(request)
    if idempotency.key is not None:
        # Litestar keeps the body it read, so this reads it no second time.
        idempotency.add_body(await request.body())
    return idempotency.rendering(respond)


_IDEMPOTENT_OPERATIONS: set[str] = set()


def takes_key(operation_id: str) -> bool:
    """Whether the operation is marked `@idempotent` (for the document's finishing step)."""
    return operation_id in _IDEMPOTENT_OPERATIONS


KEY_PARAMETER: Final = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "deprecated": False,
    "description": (
        "Makes a retry safe (draft-ietf-httpapi-idempotency-key-header): the first "
        "successful answer to this key is kept 24 hours, and a retry with the same key "
        "and the same request gets it again (with `Idempotent-Replayed: true`) and "
        "creates nothing. The draft's form is a quoted string (RFC 8941 sf-string); a "
        f"bare token is accepted too. 1 to {MAX_KEY_LENGTH} printable ASCII characters, "
        "per user."
    ),
    "schema": {"type": "string", "pattern": KEY_PATTERN},
    "example": '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
}
"""The header as the document shows it (added by openapi_idempotency.py: the handler reads it
itself, so Litestar does not know of it)."""


REPLAYED_DOC: Final = ResponseHeader(
    name=REPLAYED_HEADER,
    value="true",
    description=(
        "`true` on a retry's answer: the stored answer to the first request with the same "
        "`Idempotency-Key`; nothing was created again"
    ),
    documentation_only=True,
    required=False,
)
KEY_MALFORMED_DOC: Final = (
    "`Idempotency-Key` malformed or repeated (not a quoted string or token of 1 to "
    f"{MAX_KEY_LENGTH} printable ASCII characters)"
)
KEY_IN_USE_DOC: Final = f"`Idempotency-Key` in use: {KEY_IN_USE[0].lower()}{KEY_IN_USE[1:]}"
KEY_REUSED_DOC: Final = (
    "`Idempotency-Key` already used with another request (method, path or body): "
    '`loc` is `["header", "Idempotency-Key"]`'
)


def _joined(existing: ResponseSpec | None, body: Any, description: str) -> ResponseSpec:
    if existing is None:
        return reply(body, description)
    return reply(existing.data_container, f"{existing.description}; or {description}")


def idempotent(handler: Handler) -> Handler:
    """Above a route decorator: the route takes `Idempotency-Key` (documents it)."""
    _IDEMPOTENT_OPERATIONS.add(handler.handler_name)
    responses = dict(handler.responses or {})
    responses[400] = _joined(responses.get(400), Detail, KEY_MALFORMED_DOC)
    responses[409] = _joined(responses.get(409), Detail, KEY_IN_USE_DOC)
    responses[422] = _joined(responses.get(422) or INVALID, None, KEY_REUSED_DOC)
    handler.responses = responses
    handler.response_headers = [*(handler.response_headers or ()), REPLAYED_DOC]
    return handler


def _replay(_: AnyRequest, replay: IdempotentReplay) -> Response[Any]:
    answer = replay.response
    headers = {REPLAYED_HEADER: "true"}
    if answer.location is not None:
        headers["Location"] = answer.location
    return Response(
        content=answer.body,
        status_code=answer.status_code,
        media_type=answer.content_type,
        headers=headers,
    )


def idempotency_handlers() -> dict[
    int | type[Exception], Callable[[AnyRequest, Any], Response[Any]]
]:
    """For `Litestar(exception_handlers=...)`: a replay is answered with the stored response."""
    return {IdempotentReplay: _replay}

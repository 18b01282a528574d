"""The OpenAPI document as served: Litestar's, finished by the steps below.

Litestar builds the document from the routes' declarations. A few things a generated client
needs cannot be declared there (see each step), so every place that serves the document —
`/openapi.json`, `/docs/openapi.json` and the Swagger UI page, which embeds it — serves
`finished(...)` of Litestar's, built once per app.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Final

from litestar import Litestar, Request
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin

from faros.entrypoints.http.openapi_etags import etag_on_conditional_answers
from faros.entrypoints.http.openapi_examples import attach_examples
from faros.entrypoints.http.openapi_idempotency import add_idempotency_examples
from faros.entrypoints.http.openapi_scopes import document_scopes
from faros.entrypoints.http.openapi_uploads import add_upload_schemas
from faros.entrypoints.http.validation.plugin import named_components

Document = dict[str, Any]
Step = Callable[[Document], None]

STEPS: Final[tuple[Step, ...]] = (
    named_components,
    add_upload_schemas,
    attach_examples,
    document_scopes,
    etag_on_conditional_answers,
    add_idempotency_examples,
)
"""Each step changes the document in place, in this order."""

# Litestar builds its document once per app (an `OpenAPI` object, and one dict of it for its
# render plugins), so one finished copy per source object serves every request.
_finished: dict[int, tuple[object, Document]] = {}


def _once(source: object, raw: Callable[[], Document]) -> Document:
    known = _finished.get(id(source))
    if known is not None and known[0] is source:
        return known[1]
    document = copy.deepcopy(raw())
    for step in STEPS:
        step(document)
    _finished[id(source)] = (source, document)
    return document


def finished(document: Document) -> Document:
    """The served document for Litestar's `document` (which is left unchanged)."""
    return _once(document, lambda: document)


def served(app: Litestar) -> Document:
    """The document `app` serves."""
    openapi = app.openapi_schema
    return _once(openapi, openapi.to_schema)


class FinishedJson(JsonRenderPlugin):
    """`/docs/openapi.json`."""

    def render_json(self, request: Request[Any, Any, Any], openapi_schema: Document) -> bytes:  # type: ignore[override]
        return JsonRenderPlugin.render_json(request, finished(openapi_schema))


class FinishedSwagger(SwaggerRenderPlugin):
    """Swagger UI, whose page embeds the document."""

    def render_json(self, request: Request[Any, Any, Any], openapi_schema: Document) -> bytes:  # type: ignore[override]
        return SwaggerRenderPlugin.render_json(request, finished(openapi_schema))

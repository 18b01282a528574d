"""Swagger UI at `/docs`, with its scripts, stylesheet and icon served by FAROS itself.

Litestar's plugin loads them from a CDN by default, which leaves `/docs` blank on a closed
network; here they come from the `swagger-ui-bundle` package, under `/docs/assets/`.
"""

from __future__ import annotations

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

from faros.entrypoints.http.openapi_document import FinishedSwagger

ASSETS = "/docs/assets"

# The files' names carry no version, so browsers revalidate rather than keep them for good.
_REVALIDATE = CacheControlHeader(no_cache=True)


def swagger_assets() -> Router:
    """The package's Swagger UI files (`swagger-ui-bundle.js`, `swagger-ui.css`, icons)."""
    return create_static_files_router(
        path=ASSETS,
        directories=[str(swagger_ui_path)],
        name="docs_assets",
        cache_control=_REVALIDATE,
    )


def swagger_ui() -> FinishedSwagger:
    """Swagger UI at the OpenAPI router's root (`/docs/`), pointing at `swagger_assets()`."""
    return FinishedSwagger(
        path="/",
        js_url=f"{ASSETS}/swagger-ui-bundle.js",
        css_url=f"{ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
    )

"""Finishing step: the named schemas of the two multipart upload bodies.

The upload routes declare their request bodies as `$ref`s to `FileUpload` and `AvatarUpload`
(openapi.py), but Litestar builds `components.schemas` only from the types handlers take or
return, and those handlers read the body as a stream; so the schemas are added here.
"""

from __future__ import annotations

from typing import Any

from faros.entrypoints.http.openapi import UPLOAD_SCHEMAS


def add_upload_schemas(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in UPLOAD_SCHEMAS.items():
        schemas[name] = schema.to_schema()

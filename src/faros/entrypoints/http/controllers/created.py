"""The 201 answer: the created resource's body, and its URL in `Location` (RFC 9110 §15.3.2).

The URL is relative, so it stays right behind any proxy that keeps FAROS's paths.
"""

from __future__ import annotations

from typing import TypeVar

from litestar import Response
from litestar.status_codes import HTTP_201_CREATED

Body = TypeVar("Body")


def created(body: Body, url: str) -> Response[Body]:
    return Response(body, status_code=HTTP_201_CREATED, headers={"Location": url})

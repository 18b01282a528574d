"""A finishing step of the OpenAPI document: the `ETag` header of 304 and 412 answers.

Routes declare the headers of their success answer (`response_headers=`); Litestar's
`ResponseSpec` has no headers, so the tag a 304 (the copy held is current) or a 412 (the task
changed: here is its new tag) carries is added to those answers here.
"""

from __future__ import annotations

from typing import Any, Final

from faros.entrypoints.http.etags import ETAG_HEADER

_CONDITIONAL: Final = ("304", "412")


def etag_on_conditional_answers(document: dict[str, Any]) -> None:
    header = {
        "schema": {"type": "string"},
        "description": ETAG_HEADER.description,
        "required": True,
        "example": ETAG_HEADER.value,
    }
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            answers = operation.get("responses") if isinstance(operation, dict) else None
            if not isinstance(answers, dict):
                continue
            for status in _CONDITIONAL:
                answer = answers.get(status)
                if isinstance(answer, dict) and "$ref" not in answer:
                    answer.setdefault("headers", {})["ETag"] = dict(header)

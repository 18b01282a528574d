"""The shapes of error bodies (API.md §1.6, D7, D7a), for the OpenAPI document.

`errors.py` writes these bodies; the routes name them in their `responses=` so the document
shows what a client really receives.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

__all__ = [
    "Detail",
    "DuplicateUserBody",
    "FailedLoginBody",
    "RateLimitedBody",
    "TaskForbiddenBody",
    "TaskNotFoundBody",
    "TaskOrTagNotFoundBody",
    "ValidationBody",
    "ValidationItem",
]


class Detail(Struct):
    """Family B: one sentence."""

    detail: str


class TaskNotFoundBody(Struct):
    error: str
    message: str
    task_id: int


class TaskOrTagNotFoundBody(Struct):
    """The task is missing, or (with `tag`) the task has no such tag."""

    error: str
    message: str
    task_id: int
    tag: str | UnsetType = UNSET


class TaskForbiddenBody(Struct):
    error: str
    message: str


class FailedLoginBody(Struct):
    error: str
    message: str


class DuplicateUserBody(Struct):
    error: str
    message: str
    field: Literal["username", "email"]


class RateLimitedBody(Struct):
    error: str


class ValidationItem(Struct):
    type: str
    loc: list[str | int]
    msg: str
    input: Any
    ctx: dict[str, Any] | UnsetType = UNSET


class ValidationBody(Struct):
    """D7a: `detail` is one sentence, `errors` every offending field."""

    detail: str
    errors: Annotated[list[ValidationItem], Meta(min_length=1)]

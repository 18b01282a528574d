"""The shapes of error bodies (API.md §1.6, D7, D7a), for the OpenAPI document.

`errors.py` writes these bodies; the routes name them in their `responses=` so the document
shows what a client really receives.
"""

from __future__ import annotations

from typing import Annotated, Literal

from litestar.params import KwargDefinition
from msgspec import UNSET, Struct, UnsetType

from faros.entrypoints.http.validation.errors import ValidationError, ValidationErrorItem
from faros.entrypoints.http.validation.plugin import enum_component

__all__ = [
    "Detail",
    "DuplicateField",
    "DuplicateUserBody",
    "FailedLoginBody",
    "ForbiddenOrRefused",
    "RateLimitedBody",
    "TaskForbiddenBody",
    "TaskNotFoundBody",
    "TaskOrOtherNotFound",
    "TaskOrTagNotFoundBody",
    "ValidationError",
    "ValidationErrorItem",
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


DuplicateField = Annotated[
    Literal["username", "email"],
    enum_component("DuplicateField", "Which value is already registered"),
]


class DuplicateUserBody(Struct):
    error: str
    message: str
    field: DuplicateField


class RateLimitedBody(Struct):
    error: str


# An answer that is one of two families is a named `oneOf` component (see ValidationPlugin).
# Litestar's own metadata (routes deep-copy their answers; msgspec's `Meta` cannot be copied).
ForbiddenOrRefused = Annotated[
    TaskForbiddenBody | Detail, KwargDefinition(schema_component_key="ForbiddenOrRefused")
]
"""No permission (Family A), or a refused cross-site write or another refusal (Family B)."""
TaskOrOtherNotFound = Annotated[
    TaskNotFoundBody | Detail, KwargDefinition(schema_component_key="TaskOrOtherNotFound")
]
"""The task is missing (Family A), or something else the route names is (Family B)."""

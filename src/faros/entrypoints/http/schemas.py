"""The wire shapes (API.md §2 and §3): request bodies, query sets and responses.

Requests are validated by the `validation` package from these declarations (`strip` trims before the
length checks, D8); responses are encoded by msgspec in the field order the contract lists.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, TypeVar

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from faros.domain import sharing, tasks
from faros.domain.comments import COMMENT_MAX_LENGTH
from faros.domain.tasks import (
    DESCRIPTION_MAX_LENGTH,
    MAX_TAGS,
    TAG_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)
from faros.domain.text import MULTILINE_PATTERN, trimmed_text_pattern
from faros.entrypoints.http.validation.plugin import enum_component

_T = TypeVar("_T")

# The enums, each one named component of the document wherever it appears, so a generated
# client has one type per enum.
Priority = Annotated[tasks.Priority, enum_component("Priority")]
SharePermission = Annotated[
    sharing.SharePermission,
    enum_component("SharePermission", "`view` reads a task; `edit` also changes it"),
]
SortField = Annotated[tasks.SortField, enum_component("SortField", "What tasks are sorted by")]
SortOrder = Annotated[tasks.SortOrder, enum_component("SortOrder")]

STRIP = {"strip": True}
# `text` applies the domain's control-character rule (faros.domain.text) to user-written text as
# sent, with its own message; the `pattern` states the same rule in the API document.
ONE_LINE = {"text": "one_line"}
MULTILINE = {"text": "multiline"}


def trimmed(low: int, high: int, *, multiline: bool = False) -> Meta:
    """Text trimmed before its length is checked (D8): `low`..`high` characters once leading
    and trailing whitespace is removed. JSON Schema's `maxLength` counts the value as sent, so
    the document states the rule as one pattern over the sent value (no `maxLength`); the server
    checks the same length on the trimmed text (`max_length` in `extra`), with the usual 422s."""
    rule = "multi-line text; tabs and line breaks allowed" if multiline else "one line of text"
    return Meta(
        min_length=low or None,
        pattern=trimmed_text_pattern(low, high, multiline=multiline),
        description=(
            f"{low} to {high} characters after leading and trailing whitespace is trimmed "
            f"(the trimmed text is stored); {rule}, no other control characters."
        ),
        extra=STRIP | (MULTILINE if multiline else ONE_LINE) | {"max_length": high},
    )


Title = Annotated[str, trimmed(1, TITLE_MAX_LENGTH)]
Description = Annotated[str, trimmed(0, DESCRIPTION_MAX_LENGTH, multiline=True)]
# Empty tags (`""`, or whitespace that trims to it) are kept as sent (API.md §2.3, §3.3): the
# original clients send them.
Tag = Annotated[str, trimmed(0, TAG_MAX_LENGTH)]
Tags = Annotated[list[Tag], Meta(max_length=MAX_TAGS)]
Password = Annotated[str, Meta(min_length=8, max_length=100)]
Content = Annotated[
    str,
    Meta(min_length=1, max_length=COMMENT_MAX_LENGTH, pattern=MULTILINE_PATTERN, extra=MULTILINE),
]
ShortText = Annotated[str, Meta(max_length=200)]
# msgspec documents a datetime that may be naive as a plain string; it is an ISO 8601 moment.
Moment = Annotated[dt.datetime, Meta(extra_json_schema={"format": "date-time"})]


# --- Requests ---------------------------------------------------------------------------------


# The domain checks D11's rules (its own 422 wording); these patterns only document them.
# Python's `\s` (what the domain's e-mail rule uses) spelled out, as JSON-schema regexes differ.
_PY_SPACE = (
    "\t\n\u000b\u000c\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
_EMAIL_PART = f"[^@{_PY_SPACE}]+"
USERNAME_DOC = {"pattern": "^[A-Za-z0-9_.\\-]{3,50}$"}
EMAIL_DOC = {"pattern": f"^{_EMAIL_PART}@{_EMAIL_PART}\\.{_EMAIL_PART}$"}


class RegisterIn(Struct):
    username: Annotated[str, Meta(min_length=3, max_length=50, extra_json_schema=USERNAME_DOC)]
    email: Annotated[str, Meta(max_length=100, extra_json_schema=EMAIL_DOC)]
    password: Password


class LoginIn(Struct):
    username: Annotated[str, Meta(max_length=200)]
    password: Annotated[str, Meta(max_length=1000)]


class PasswordResetRequestIn(Struct):
    email: ShortText


class PasswordResetVerifyIn(Struct):
    token: ShortText
    new_password: Password


class ChangePasswordIn(Struct):
    current_password: Annotated[str, Meta(max_length=1000)]
    new_password: Password


class TaskCreateIn(Struct):
    title: Title
    description: Description | None = None
    priority: Priority = "medium"
    due_date: dt.date | None = None
    tags: Tags = msgspec.field(default_factory=list)
    completed: bool = False


class TaskUpdateIn(Struct):
    """Absent keys stay UNSET and are left alone; `null` clears only the nullable fields."""

    # A body naming no field (`{}`) is answered 400 "No fields provided for update" (API.md
    # §3.3); the document says so (unknown keys count there but not here: also a 400).
    json_schema_extra: ClassVar[dict[str, Any]] = {"minProperties": 1}

    title: Title | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    completed: bool | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    due_date: dt.date | UnsetType | None = UNSET
    tags: Tags | UnsetType = UNSET

    def changes(self) -> dict[str, Any]:
        return {
            name: value
            for name in self.__struct_fields__
            if (value := getattr(self, name)) is not UNSET
        }


class BulkUpdateIn(Struct):
    task_ids: Annotated[list[int], Meta(min_length=1, max_length=100)]
    updates: TaskUpdateIn


class ShareIn(Struct):
    shared_with_username: Annotated[str, Meta(max_length=100)]
    permission: SharePermission = "view"


class SharePermissionIn(Struct):
    permission: SharePermission


class CommentIn(Struct):
    content: Content


class PreferencesIn(Struct):
    email_enabled: bool | UnsetType = UNSET
    task_shared_with_me: bool | UnsetType = UNSET
    task_completed: bool | UnsetType = UNSET
    comment_on_my_task: bool | UnsetType = UNSET
    task_due_soon: bool | UnsetType = UNSET

    def values(self) -> dict[str, bool]:
        return {
            name: value
            for name in self.__struct_fields__
            if isinstance(value := getattr(self, name), bool)
        }


class VerifyIn(Struct):
    token: ShortText


# --- Query sets -------------------------------------------------------------------------------


class TaskListQuery(Struct):
    completed: bool | None = None
    priority: Priority | None = None
    tags: Annotated[str, Meta(max_length=2000)] | None = None
    overdue: bool | None = None
    search: Annotated[str, Meta(max_length=200)] | None = None
    created_after: dt.date | None = None
    created_before: dt.date | None = None
    due_after: dt.date | None = None
    due_before: dt.date | None = None
    sort_by: SortField | None = None
    sort_order: SortOrder = "asc"
    skip: Annotated[int, Meta(ge=0, le=1_000_000_000)] = 0
    limit: Annotated[int, Meta(ge=1, le=100)] = 100


class ActivityQuery(Struct):
    resource_type: Annotated[str, Meta(max_length=50)] | None = None
    action: Annotated[str, Meta(max_length=50)] | None = None
    start_date: Moment | None = None
    end_date: Moment | None = None
    limit: Annotated[int, Meta(ge=1, le=100)] = 50
    offset: Annotated[int, Meta(ge=0, le=1_000_000_000)] = 0


class UserSearchQuery(Struct):
    query: Annotated[str, Meta(min_length=1, max_length=100)]
    limit: Annotated[int, Meta(ge=1, le=50)] = 10


class VerifyQuery(Struct):
    token: ShortText


# --- Responses --------------------------------------------------------------------------------


class MessageOut(Struct):
    message: str


class RootOut(Struct):
    message: str
    status: str


class HealthOut(Struct):
    status: str
    database: str
    redis: str


class VersionOut(Struct):
    version: str
    environment: str


class UserCreatedOut(Struct):
    id: int
    username: str
    email: str
    created_at: dt.datetime


class TokenOut(Struct):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret


class UserProfileOut(Struct):
    id: int
    username: str
    email: str
    avatar_url: str | None
    email_verified: bool
    created_at: dt.datetime


class UserRefOut(Struct):
    id: int
    username: str


class AvatarOut(Struct):
    avatar_url: str


class CommentOut(Struct):
    id: int
    task_id: int
    user_id: int
    content: str
    created_at: dt.datetime
    updated_at: dt.datetime | None
    username: str | None


class TaskOut(Struct):
    id: int
    title: str
    description: str | None
    completed: bool
    priority: Priority
    created_at: dt.datetime
    due_date: dt.date | None
    tags: list[str]
    user_id: int
    comments: list[CommentOut]
    share_count: int
    # Not in the original contract (issue 17): both clients ignore fields they do not read.
    version: Annotated[
        int,
        Meta(
            ge=1,
            description=(
                "1 when created, +1 for every change to what this object shows (its fields, "
                'tags, comments, share count); the task\'s `ETag` is `"<id>-<version>"`'
            ),
        ),
    ]


class TaskPreconditionFailed(Struct):
    """412: the task changed since the caller read it; `task` is how it is now (its `ETag`
    comes with the answer), so the caller can merge and retry without reading it again."""

    detail: str
    task: TaskOut


class TaskPageOut(Struct):
    tasks: list[TaskOut]
    total: int
    page: int
    pages: int


class SharedTaskOut(Struct):
    task: TaskOut
    permission: SharePermission
    is_owner: bool
    owner_username: str


class TaskStatsOut(Struct):
    total: int
    completed: int
    incomplete: int
    by_priority: dict[str, int]
    by_tag: dict[str, int]
    overdue: int
    tasks_shared: int
    comments_posted: int


class ShareOut(Struct):
    id: int
    task_id: int
    shared_with_user_id: int
    shared_with_username: str
    permission: SharePermission
    shared_at: dt.datetime


class FileUploadedOut(Struct):
    id: int
    task_id: int
    original_filename: str
    file_size: int
    content_type: str | None
    uploaded_at: dt.datetime


class FileInfoOut(Struct):
    id: int
    original_filename: str
    file_size: int
    content_type: str | None
    uploaded_at: dt.datetime


class PreferencesOut(Struct):
    user_id: int
    email_verified: bool
    email_enabled: bool
    task_shared_with_me: bool
    task_completed: bool
    comment_on_my_task: bool
    task_due_soon: bool
    updated_at: dt.datetime | None


class SubscribeOut(Struct):
    message: str
    email: str


class SendVerificationOut(Struct):
    message: str
    email: str
    expires_in: str


class VerifyOut(Struct):
    message: str
    username: str


class ActivityOut(Struct):
    id: int
    user_id: int
    action: str
    resource_type: str
    resource_id: int
    details: dict[str, Any] | None
    created_at: dt.datetime
    username: str | None


class TimelineEntryOut(ActivityOut):
    """An activity entry with its one-line summary (D14); `summary` comes last."""

    summary: str


class ActivityStatsOut(Struct):
    total_activities: int
    by_action: dict[str, int]
    by_resource: dict[str, int]


def out(value: object, shape: type[_T]) -> _T:
    """Copy a domain object into its wire struct (fast: msgspec reads the attributes in C)."""
    return msgspec.convert(value, shape, from_attributes=True)


def out_list(values: list[Any], shape: type[_T]) -> list[_T]:
    return msgspec.convert(values, list[shape], from_attributes=True)  # type: ignore[valid-type]

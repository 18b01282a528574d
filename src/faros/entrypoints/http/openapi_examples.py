"""Examples for the OpenAPI document: request bodies and the main answers of every operation.

Litestar can attach examples to a route's parameters but not to its request body or its
responses, so `attach_examples` (a finishing step of `openapi_document.STEPS`) places them.
The table is keyed by operationId, status and media type only, never by component name, so
renaming a schema does not move an example.

Every example tells one story, so that a reader can follow ids from one answer to the next:
alice (user 1) owns task 42 "Write the quarterly report", shares it with bob (user 2) with edit
rights, bob comments on it (comment 7) and alice attaches report.pdf (file 3). Task 43 is a
second task of alice's. Values are what the server really sends: datetimes in UTC with `Z`
(microseconds only when non-zero), dates as `YYYY-MM-DD`, the 422 body of D7a.

tests/http/security/test_openapi_examples.py checks that every example validates against the
schema it illustrates and that a few of them are what the running server answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from faros.entrypoints.http.validation.errors import ErrorDict, describe_error, error, value_error

JSON: Final = "application/json"


@dataclass(frozen=True)
class Example:
    value: Any
    summary: str = ""


Examples = Mapping[str, Example]
"""Named examples of one media type: a single one without a summary is placed as `example`,
otherwise they go to `examples`, so that a viewer can label each (e.g. the case of an error)."""


@dataclass(frozen=True)
class OperationExamples:
    request: Examples = field(default_factory=dict)
    responses: Mapping[str, Examples] = field(default_factory=dict)
    """By status code; every body here is `application/json`."""


def one(value: Any, summary: str = "") -> Examples:
    return {"example": Example(value, summary)}


# --- the story --------------------------------------------------------------------------------

# Made-up values for the documentation, no deployment's secrets (S105 cannot tell).
ALICE_PASSWORD = "correct-horse-battery"  # noqa: S105
ALICE_CREATED = "2026-11-30T08:15:00Z"
ALICE_TOKEN = ".".join(  # header, claims (D2: sub, exp, iat, jti, ver), a made-up signature
    (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
        "eyJzdWIiOiJhbGljZSIsImV4cCI6MTc5NjI0NTIwMCwiaWF0IjoxNzk2MjAyMDAwLCJqdGkiOiI0ZjFjMmE5ZThiN2Q0YzNhIiwidmVyIjoxfQ",
        "Qm9vay1rZWVwaW5nLW9ubHktbm90LWEtcmVhbC1zaWc",
    )
)
LINK_TOKEN = "q3XbV0l7mS2cYk9T4rGf1wHnJ8pLzA6eDuCoRiWt5Es"  # noqa: S105

TASK_CREATED = "2026-12-01T09:30:00Z"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwCz6nN3BhVnk="  # noqa: S105 - made up
WEBHOOK_EVENT_ID = "msg_2f7c1d9e8b6a4c3d5e0f1a2b3c4d5e6f"
WEBHOOK: Final = {
    "id": 5,
    "url": "https://automation.example.com/faros",
    "events": ["task.created", "task.updated", "task.completed"],
    "description": "n8n flow: report status",
    "enabled": True,
    "created_at": "2026-12-01T09:00:00Z",
    "updated_at": None,
    "consecutive_failures": 0,
    "failing_since": None,
    "disabled_reason": None,
}
TITLE = "Write the quarterly report"
DESCRIPTION = "Revenue and cost figures for Q4, with charts."

COMMENT: Final = {
    "id": 7,
    "task_id": 42,
    "user_id": 2,
    "content": "Draft is in the shared folder.",
    "created_at": "2026-12-02T14:05:00Z",
    "updated_at": None,
    "username": "bob",
}
EDITED_COMMENT: Final = {
    **COMMENT,
    "content": "Draft is in the shared folder; charts to follow.",
    "updated_at": "2026-12-02T14:20:00Z",
}

NEW_TASK: Final = {
    "id": 42,
    "title": TITLE,
    "description": DESCRIPTION,
    "completed": False,
    "priority": "high",
    "created_at": TASK_CREATED,
    "due_date": "2026-12-15",
    "tags": ["work", "finance"],
    "user_id": 1,
    "comments": [],
    "share_count": 0,
    "version": 1,
}
# Shared (version 2), commented (3), the comment edited (4).
TASK: Final = {**NEW_TASK, "comments": [EDITED_COMMENT], "share_count": 1, "version": 4}
OTHER_TASK: Final = {
    "id": 43,
    "title": "Book the team offsite venue",
    "description": None,
    "completed": False,
    "priority": "medium",
    "created_at": "2026-12-01T11:02:17.482913Z",
    "due_date": None,
    "tags": ["work"],
    "user_id": 1,
    "comments": [],
    "share_count": 0,
    "version": 1,
}

SHARE: Final = {
    "id": 5,
    "task_id": 42,
    "shared_with_user_id": 2,
    "shared_with_username": "bob",
    "permission": "edit",
    "shared_at": "2026-12-01T09:45:00Z",
}

FILE_UPLOADED: Final = {
    "id": 3,
    "task_id": 42,
    "original_filename": "report.pdf",
    "file_size": 482133,
    "content_type": "application/pdf",
    "uploaded_at": "2026-12-03T10:00:00Z",
}
FILE_INFO: Final = {key: value for key, value in FILE_UPLOADED.items() if key != "task_id"}

PREFERENCES: Final = {
    "user_id": 1,
    "email_verified": True,
    "email_enabled": True,
    "task_shared_with_me": True,
    "task_completed": False,
    "comment_on_my_task": True,
    "task_due_soon": True,
    "updated_at": "2026-11-30T08:31:00Z",
}

CREATED_ENTRY: Final = {
    "id": 101,
    "user_id": 1,
    "action": "created",
    "resource_type": "task",
    "resource_id": 42,
    "details": {
        "title": TITLE,
        "priority": "high",
        "completed": False,
        "tags": ["work", "finance"],
        "due_date": "2026-12-15",
    },
    "created_at": TASK_CREATED,
    "username": "alice",
}
SHARED_ENTRY: Final = {
    "id": 102,
    "user_id": 1,
    "action": "shared",
    "resource_type": "task",
    "resource_id": 42,
    "details": {
        "task_title": TITLE,
        "shared_with_user_id": 2,
        "shared_with_username": "bob",
        "permission": "edit",
    },
    "created_at": "2026-12-01T09:45:00Z",
    "username": "alice",
}
COMMENT_ENTRY: Final = {
    "id": 104,
    "user_id": 2,
    "action": "created",
    "resource_type": "comment",
    "resource_id": 7,
    "details": {
        "task_id": 42,
        "task_title": TITLE,
        "content_preview": "Draft is in the shared folder.",
    },
    "created_at": "2026-12-02T14:05:00Z",
    "username": "bob",
}
UPLOAD_ENTRY: Final = {
    "id": 106,
    "user_id": 1,
    "action": "uploaded",
    "resource_type": "file",
    "resource_id": 3,
    "details": {
        "task_id": 42,
        "filename": "report.pdf",
        "file_size": 482133,
        "content_type": "application/pdf",
    },
    "created_at": "2026-12-03T10:00:00Z",
    "username": "alice",
}
UPDATE_ENTRY: Final = {
    "id": 107,
    "user_id": 2,
    "action": "updated",
    "resource_type": "task",
    "resource_id": 42,
    "details": {
        "task_title": TITLE,
        "changed_fields": ["priority"],
        "old_values": {"priority": "high"},
        "new_values": {"priority": "medium"},
    },
    "created_at": "2026-12-03T16:40:00Z",
    "username": "bob",
}

ACCESS_TOKEN: Final = {
    "id": 9,
    "name": "nightly-report",
    "scopes": ["tasks:read", "comments:write"],
    "created_at": "2026-12-04T18:00:00Z",
    "expires_at": "2027-03-04T18:00:00Z",
    "last_used_at": None,
}
USED_ACCESS_TOKEN: Final = {**ACCESS_TOKEN, "last_used_at": "2026-12-05T02:00:12Z"}
ACCESS_TOKEN_SECRET = "faros_pat_" + "Zm9yLWRvY3Mtb25seS1ub3QtYS1yZWFsLXRva2VuLTQy"[:43]

# --- error answers ----------------------------------------------------------------------------

# bob changed the priority (version 5) after alice read version 4.
CHANGED_TASK: Final = {**TASK, "priority": "medium", "version": 5}
STALE_TASK: Final = one(
    {
        "detail": "Task 42 has changed since you read it: its current version is 5",
        "task": CHANGED_TASK,
    },
    'Sent `If-Match: "42-4"`; the task is at version 5 now',
)

NOT_AUTHENTICATED: Final = one({"detail": "Not authenticated"}, "No token, or an invalid one")
TASK_NOT_FOUND: Final = one(
    {"error": "Task Not Found", "message": "Task with ID 404 not found", "task_id": 404},
    "No task has this id",
)
TASK_FORBIDDEN: Final = one(
    {
        "error": "Unauthorized Access",
        "message": "You do not have permission to access this task",
    },
    "The caller's access to the task is below what the operation needs",
)
CROSS_SITE: Final = one(
    {"detail": "Cross-site request refused"},
    "A cookie-authenticated write from a foreign page (D4)",
)


NEEDS_LOGIN: Final = one(
    {"detail": "This action needs a login: access tokens cannot be used for it"},
    'Sent with an access token (`WWW-Authenticate: Bearer error="insufficient_scope"`)',
)


def rate_limited(limit: str) -> Examples:
    return one({"error": f"Rate limit exceeded: {limit}"}, "Too many requests")


def invalid(*items: ErrorDict) -> Examples:
    """A 422 body (D7a) as the server writes it, with its sentence made by the server's code."""
    return one({"detail": describe_error(items[0]), "errors": list(items)}, "Invalid input")


BAD_TASK_ID: Final = invalid(
    error(
        "int_parsing",
        ("path", "task_id"),
        "Input should be a valid integer, unable to parse string as an integer",
        "forty-two",
    )
)
BAD_PRIORITY: Final = error(
    "literal_error",
    ("body", "priority"),
    "Input should be 'low', 'medium' or 'high'",
    "urgent",
    {"expected": "'low', 'medium' or 'high'"},
)
BAD_PERMISSION: Final = error(
    "literal_error",
    ("body", "permission"),
    "Input should be 'view' or 'edit'",
    "admin",
    {"expected": "'view' or 'edit'"},
)
EMPTY_CONTENT: Final = invalid(
    error(
        "string_too_short",
        ("body", "content"),
        "String should have at least 1 character",
        "",
        {"min_length": 1},
    )
)
SHORT_NEW_PASSWORD: Final = error(
    "string_too_short",
    ("body", "new_password"),
    "String should have at least 8 characters",
    "hunter2",
    {"min_length": 8},
)


# --- the table --------------------------------------------------------------------------------

EXAMPLES: Final[Mapping[str, OperationExamples]] = {
    "root": OperationExamples(
        responses={"200": one({"message": "Task Manager API", "status": "running"})}
    ),
    "health": OperationExamples(
        responses={
            "200": one({"status": "healthy", "database": "connected", "redis": "connected"}),
            "503": one(
                {"status": "unhealthy", "database": "disconnected", "redis": "connected"},
                "The database cannot be reached",
            ),
        }
    ),
    "version": OperationExamples(
        responses={"200": one({"version": "0.1.0", "environment": "production"})}
    ),
    "register": OperationExamples(
        request=one(
            {"username": "alice", "email": "alice@example.com", "password": ALICE_PASSWORD}
        ),
        responses={
            "201": one(
                {
                    "id": 1,
                    "username": "alice",
                    "email": "alice@example.com",
                    "created_at": ALICE_CREATED,
                }
            ),
            "409": one(
                {
                    "error": "Duplicate User",
                    "message": "Username 'alice' is already registered",
                    "field": "username",
                },
                "The username or e-mail address is taken",
            ),
            "422": invalid(
                error(
                    "string_too_short",
                    ("body", "username"),
                    "String should have at least 3 characters",
                    "al",
                    {"min_length": 3},
                ),
                error(
                    "string_too_short",
                    ("body", "password"),
                    "String should have at least 8 characters",
                    "short",
                    {"min_length": 8},
                ),
            ),
            "429": rate_limited("10 per 1 hour"),
        },
    ),
    "login": OperationExamples(
        request=one({"username": "alice", "password": ALICE_PASSWORD}),
        responses={
            "200": one({"access_token": ALICE_TOKEN, "token_type": "bearer"}),
            "401": one(
                {"error": "Authentication Failed", "message": "Invalid username or password"},
                "Unknown username or wrong password",
            ),
            "422": invalid(
                error("missing", ("body", "password"), "Field required", {"username": "alice"})
            ),
            "429": rate_limited("5 per 1 minute"),
        },
    ),
    "logout": OperationExamples(
        responses={"200": one({"message": "Logged out successfully"}), "403": CROSS_SITE}
    ),
    "request_password_reset": OperationExamples(
        request=one({"email": "alice@example.com"}),
        responses={
            "200": one({"message": "If email exists, password reset sent"}),
            "422": invalid(error("missing", ("body", "email"), "Field required", {})),
            "429": rate_limited("1 per 1 minute"),
        },
    ),
    "verify_password_reset": OperationExamples(
        request=one({"token": LINK_TOKEN, "new_password": "staple-battery-horse"}),
        responses={
            "200": one(
                {
                    "message": "Password updated successfully. "
                    "You can now log in with your new password."
                }
            ),
            "400": one(
                {"detail": "Invalid or expired reset token"}, "The token is unknown or used"
            ),
            "422": invalid(SHORT_NEW_PASSWORD),
        },
    ),
    "list_tasks": OperationExamples(
        responses={
            "200": one({"tasks": [TASK, OTHER_TASK], "total": 2, "page": 1, "pages": 1}),
            "401": NOT_AUTHENTICATED,
            "422": invalid(
                error(
                    "greater_than_equal",
                    ("query", "limit"),
                    "Input should be greater than or equal to 1",
                    "0",
                    {"ge": 1},
                )
            ),
        }
    ),
    "create_task": OperationExamples(
        request={
            "full": Example(
                {
                    "title": TITLE,
                    "description": DESCRIPTION,
                    "priority": "high",
                    "due_date": "2026-12-15",
                    "tags": ["work", "finance"],
                },
                "Every field but `completed`",
            ),
            "minimal": Example(
                {"title": TITLE},
                "Only the title: medium priority, no description, due date or tags",
            ),
        },
        responses={
            "201": one(NEW_TASK),
            "401": NOT_AUTHENTICATED,
            "422": invalid(
                error(
                    "string_too_short",
                    ("body", "title"),
                    "String should have at least 1 character",
                    "   ",
                    {"min_length": 1},
                ),
                BAD_PRIORITY,
            ),
            "429": rate_limited("100 per 1 hour"),
        },
    ),
    "task_stats": OperationExamples(
        responses={
            "200": one(
                {
                    "total": 2,
                    "completed": 0,
                    "incomplete": 2,
                    "by_priority": {"high": 1, "medium": 1},
                    "by_tag": {"work": 2, "finance": 1},
                    "overdue": 0,
                    "tasks_shared": 1,
                    "comments_posted": 0,
                }
            ),
            "401": NOT_AUTHENTICATED,
        }
    ),
    "bulk_update": OperationExamples(
        request=one({"task_ids": [42, 43], "updates": {"completed": True}}),
        responses={
            "200": one(
                [
                    {**TASK, "completed": True, "version": 5},
                    {**OTHER_TASK, "completed": True, "version": 2},
                ],
            ),
            "400": one({"detail": "No fields provided for update"}, "`updates` is empty"),
            "404": one({"detail": "Tasks not found: [44, 45]"}, "Some ids name no task"),
            "403": TASK_FORBIDDEN,
            "422": invalid(
                error(
                    "literal_error",
                    ("body", "updates", "priority"),
                    "Input should be 'low', 'medium' or 'high'",
                    "urgent",
                    {"expected": "'low', 'medium' or 'high'"},
                )
            ),
        },
    ),
    "shared_with_me": OperationExamples(
        responses={
            "200": one(
                [
                    {
                        "task": TASK,
                        "permission": "edit",
                        "is_owner": False,
                        "owner_username": "alice",
                    }
                ],
                "bob's view",
            ),
            "401": NOT_AUTHENTICATED,
        }
    ),
    "get_task": OperationExamples(
        responses={
            "200": one(TASK),
            "403": TASK_FORBIDDEN,
            "404": TASK_NOT_FOUND,
            "422": BAD_TASK_ID,
        }
    ),
    "delete_task": OperationExamples(
        responses={"403": TASK_FORBIDDEN, "404": TASK_NOT_FOUND, "412": STALE_TASK}
    ),
    "update_task": OperationExamples(
        request={
            "complete": Example({"completed": True}, "Tick the task off"),
            "edit": Example(
                {
                    "title": TITLE,
                    "description": DESCRIPTION,
                    "priority": "medium",
                    "due_date": "2026-12-18",
                    "tags": ["work", "finance", "q4"],
                },
                "Save the edit form",
            ),
            "clear_due_date": Example({"due_date": None}, "`null` clears a nullable field"),
        },
        responses={
            "200": one({**TASK, "completed": True, "version": 5}),
            "400": one({"detail": "No fields provided for update"}, "The body is `{}`"),
            "403": TASK_FORBIDDEN,
            "404": TASK_NOT_FOUND,
            "412": STALE_TASK,
            "422": invalid(BAD_PRIORITY),
        },
    ),
    "add_tags": OperationExamples(
        request=one(["q4", "urgent"]),
        responses={
            "200": one({**TASK, "tags": ["work", "finance", "q4", "urgent"], "version": 5}),
            "403": TASK_FORBIDDEN,
            "404": TASK_NOT_FOUND,
            "412": STALE_TASK,
            "422": invalid(
                error("list_type", ("body",), "Input should be a valid list", {"tags": ["q4"]})
            ),
        },
    ),
    "remove_tag": OperationExamples(
        responses={
            "200": one({**TASK, "tags": ["work"], "version": 5}, "After removing `finance`"),
            "403": TASK_FORBIDDEN,
            "404": one(
                {
                    "error": "Tag Not Found",
                    "message": "Tag 'urgent' not found on task 42",
                    "task_id": 42,
                    "tag": "urgent",
                },
                "The task has no such tag",
            ),
            "412": STALE_TASK,
        }
    ),
    "list_shares": OperationExamples(
        responses={"200": one([SHARE]), "403": TASK_FORBIDDEN, "404": TASK_NOT_FOUND}
    ),
    "share_task": OperationExamples(
        request=one({"shared_with_username": "bob", "permission": "edit"}),
        responses={
            "201": one(SHARE),
            "400": one({"detail": "Cannot share task with yourself"}, "Sharing with oneself"),
            "403": TASK_FORBIDDEN,
            "404": one({"detail": "User 'bobby' not found"}, "No user has this name"),
            "409": one({"detail": "Task already shared with this user"}, "Already shared"),
            "422": invalid(BAD_PERMISSION),
        },
    ),
    "change_share": OperationExamples(
        request=one({"permission": "view"}),
        responses={
            "200": one({**SHARE, "permission": "view"}),
            "403": TASK_FORBIDDEN,
            "404": one({"detail": "User 'bobby' not found"}, "No user has this name"),
            "422": invalid(BAD_PERMISSION),
        },
    ),
    "unshare_task": OperationExamples(
        responses={
            "403": TASK_FORBIDDEN,
            "404": one({"detail": "Task is not shared with user 'carol'"}, "The user has no share"),
        }
    ),
    "list_comments": OperationExamples(
        responses={"200": one([EDITED_COMMENT]), "403": TASK_FORBIDDEN, "404": TASK_NOT_FOUND}
    ),
    "add_comment": OperationExamples(
        request=one({"content": COMMENT["content"]}),
        responses={
            "201": one(COMMENT),
            "403": TASK_FORBIDDEN,
            "404": TASK_NOT_FOUND,
            "422": EMPTY_CONTENT,
        },
    ),
    "edit_comment": OperationExamples(
        request=one({"content": EDITED_COMMENT["content"]}),
        responses={
            "200": one(EDITED_COMMENT),
            "403": one(
                {"detail": "User 1 is not authorized to access comment_id=7"},
                "Only the author may edit a comment",
            ),
            "404": one({"detail": "Comment not found"}, "No comment has this id"),
            "422": EMPTY_CONTENT,
        },
    ),
    "delete_comment": OperationExamples(
        responses={
            "403": one(
                {"detail": "User 2 is not authorized to access comment_id=8"},
                "Neither the author nor the task's owner",
            ),
            "404": one({"detail": "Comment not found"}, "No comment has this id"),
        }
    ),
    "list_files": OperationExamples(
        responses={"200": one([FILE_INFO]), "403": TASK_FORBIDDEN, "404": TASK_NOT_FOUND}
    ),
    # The multipart request body and the binary downloads are documented elsewhere (#16 item 3).
    "upload_file": OperationExamples(
        responses={
            "201": one(FILE_UPLOADED),
            "400": one({"detail": "File too large. Max size: 10.0 MB"}, "Over the size limit"),
            "403": TASK_FORBIDDEN,
            "404": TASK_NOT_FOUND,
            "429": rate_limited("20 per 1 hour"),
        }
    ),
    "download_file": OperationExamples(
        responses={
            "403": TASK_FORBIDDEN,
            "404": one({"detail": "File with ID 4 not found"}, "No file has this id"),
        }
    ),
    "delete_file": OperationExamples(
        responses={
            "403": TASK_FORBIDDEN,
            "404": one({"detail": "File with ID 4 not found"}, "No file has this id"),
        }
    ),
    "get_preferences": OperationExamples(
        responses={"200": one(PREFERENCES), "401": NOT_AUTHENTICATED}
    ),
    "update_preferences": OperationExamples(
        request=one({"task_completed": True}),
        responses={
            "200": one(
                {**PREFERENCES, "task_completed": True, "updated_at": "2026-12-01T09:05:00Z"}
            ),
            "422": invalid(
                error(
                    "bool_type",
                    ("body", "task_completed"),
                    "Input should be a valid boolean",
                    None,
                )
            ),
        },
    ),
    "subscribe": OperationExamples(
        responses={
            "200": one(
                {
                    "message": "You are now subscribed to notifications. "
                    "You will receive emails based on your preferences.",
                    "email": "alice@example.com",
                }
            )
        }
    ),
    "send_verification": OperationExamples(
        responses={
            "200": one(
                {
                    "message": "Verification email sent",
                    "email": "alice@example.com",
                    "expires_in": "24 hours",
                }
            ),
            "429": rate_limited("5 per 1 minute"),
        }
    ),
    "verify_by_link": OperationExamples(
        responses={"422": invalid(error("missing", ("query", "token"), "Field required", None))}
    ),
    "verify_by_post": OperationExamples(
        request=one({"token": LINK_TOKEN}),
        responses={
            "200": one({"message": "Email verified successfully", "username": "alice"}),
            "400": one(
                {"detail": "Invalid or expired verification token"},
                "The token is unknown or used",
            ),
            "422": invalid(error("missing", ("body", "token"), "Field required", {})),
        },
    ),
    "activity_feed": OperationExamples(
        responses={
            "200": one(
                [UPDATE_ENTRY, UPLOAD_ENTRY, COMMENT_ENTRY, SHARED_ENTRY, CREATED_ENTRY],
                "alice's feed, newest first",
            ),
            "401": NOT_AUTHENTICATED,
        }
    ),
    "activity_stats": OperationExamples(
        responses={
            "200": one(
                {
                    "total_activities": 3,
                    "by_action": {"created": 1, "shared": 1, "uploaded": 1},
                    "by_resource": {"task": 2, "file": 1},
                },
                "alice's own actions",
            ),
            "401": NOT_AUTHENTICATED,
        }
    ),
    "task_timeline": OperationExamples(
        responses={
            "200": one(
                [
                    {**CREATED_ENTRY, "summary": f"alice created task '{TITLE}'"},
                    {**SHARED_ENTRY, "summary": "alice shared task with bob (edit)"},
                    {**COMMENT_ENTRY, "summary": "bob added a comment"},
                    {**UPLOAD_ENTRY, "summary": "alice uploaded report.pdf"},
                    {**UPDATE_ENTRY, "summary": "bob changed priority from high to medium"},
                ],
                "Oldest first",
            ),
            "403": TASK_FORBIDDEN,
            "404": TASK_NOT_FOUND,
        }
    ),
    "profile": OperationExamples(
        responses={
            "200": one(
                {
                    "id": 1,
                    "username": "alice",
                    "email": "alice@example.com",
                    "avatar_url": "/users/1/avatar.png",
                    "email_verified": True,
                    "created_at": ALICE_CREATED,
                }
            ),
            "401": NOT_AUTHENTICATED,
        }
    ),
    "change_password": OperationExamples(
        request=one({"current_password": ALICE_PASSWORD, "new_password": "staple-battery-horse"}),
        responses={
            "200": one({"message": "Password changed successfully"}),
            "400": one({"detail": "Current password is incorrect"}, "Wrong current password (D9)"),
            "422": invalid(SHORT_NEW_PASSWORD),
        },
    ),
    "search_users": OperationExamples(
        responses={
            "200": one([{"id": 2, "username": "bob"}], "`?query=bo`, asked by alice"),
            "422": invalid(
                error(
                    "string_too_short",
                    ("query", "query"),
                    "String should have at least 1 character",
                    "",
                    {"min_length": 1},
                )
            ),
        }
    ),
    "upload_avatar": OperationExamples(
        responses={
            "200": one({"avatar_url": "/users/1/avatar.png"}),
            "400": one({"detail": "File must be an image"}, "The part is not an image"),
        }
    ),
    "get_avatar": OperationExamples(
        responses={"404": one({"detail": "Avatar not found"}, "The user has no avatar")}
    ),
    "create_token": OperationExamples(
        request=one(
            {
                "name": "nightly-report",
                "scopes": ["tasks:read", "comments:write"],
                "expires_in_days": 90,
            }
        ),
        responses={
            "201": one({**ACCESS_TOKEN, "token": ACCESS_TOKEN_SECRET}),
            "403": NEEDS_LOGIN,
            "422": invalid(
                error(
                    "less_than_equal",
                    ("body", "expires_in_days"),
                    "Input should be less than or equal to 365",
                    400,
                    {"le": 365},
                )
            ),
            "429": rate_limited("20 per 1 hour"),
        },
    ),
    "list_tokens": OperationExamples(
        responses={
            "200": one([USED_ACCESS_TOKEN], "alice's one token, used by her script"),
            "403": NEEDS_LOGIN,
        }
    ),
    "revoke_token": OperationExamples(
        responses={
            "403": NEEDS_LOGIN,
            "404": one({"detail": "Token not found"}, "The caller has no token with this id"),
        }
    ),
    # --- webhooks (issue 17): alice's webhook 5 posts task events to her automation server.
    "create_webhook": OperationExamples(
        request=one(
            {
                "url": WEBHOOK["url"],
                "events": WEBHOOK["events"],
                "description": WEBHOOK["description"],
            }
        ),
        responses={
            "201": one({**WEBHOOK, "secret": WEBHOOK_SECRET}),
            "422": invalid(
                value_error(
                    ("body", "url"),
                    "The URL's host is refused: 10.0.0.7 resolves to 10.0.0.7, a private address",
                    "https://10.0.0.7/hooks",
                )
            ),
        },
    ),
    "list_webhooks": OperationExamples(responses={"200": one([WEBHOOK])}),
    "get_webhook": OperationExamples(
        responses={
            "200": one(WEBHOOK),
            "404": one({"detail": "Webhook not found"}, "No such webhook, or not yours"),
        }
    ),
    "update_webhook": OperationExamples(
        request=one({"enabled": True}, "Re-enable a webhook disabled after failing"),
        responses={
            "200": one(WEBHOOK),
            "400": one({"detail": "No fields provided for update"}, "An empty body"),
            "404": one({"detail": "Webhook not found"}),
        },
    ),
    "list_deliveries": OperationExamples(
        responses={
            "200": one(
                [
                    {
                        "id": 12,
                        "event_id": WEBHOOK_EVENT_ID,
                        "event": "task.updated",
                        "status": "succeeded",
                        "response_code": 200,
                        "duration_ms": 84,
                        "attempt": 2,
                        "error": None,
                        "created_at": "2026-12-02T10:00:05Z",
                    },
                    {
                        "id": 11,
                        "event_id": WEBHOOK_EVENT_ID,
                        "event": "task.updated",
                        "status": "failed",
                        "response_code": 503,
                        "duration_ms": 31,
                        "attempt": 1,
                        "error": "the receiver answered HTTP 503",
                        "created_at": "2026-12-02T10:00:00Z",
                    },
                ]
            )
        }
    ),
    "redeliver": OperationExamples(
        responses={
            "202": one({"event_id": WEBHOOK_EVENT_ID}),
            "404": one({"detail": "Delivery not found"}),
        }
    ),
    "ping_webhook": OperationExamples(
        responses={
            "202": one({"event_id": "msg_5b0e8c1f2a9d4e6b8c7d3f1a2b4c6d8e"}),
            "404": one({"detail": "Webhook not found"}),
        }
    ),
}


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for item in document.get("paths", {}).values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


def _place(media: dict[str, Any], examples: Examples) -> None:
    """Set the examples of one media type, unless the route declared its own."""
    if "example" in media or "examples" in media:
        return
    if len(examples) == 1:
        (only,) = examples.values()
        if not only.summary:
            media["example"] = only.value
            return
    media["examples"] = {
        name: {"summary": item.summary, "value": item.value}
        if item.summary
        else {"value": item.value}
        for name, item in examples.items()
    }


def placements(document: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """Every `(operationId, "request" or status, media type, found)` of the table."""
    operations = _operations(document)
    found = []
    for operation_id, table in EXAMPLES.items():
        operation = operations.get(operation_id, {})
        if table.request:
            content = (operation.get("requestBody") or {}).get("content") or {}
            found.append((operation_id, "request", JSON, JSON in content))
        for status in table.responses:
            response = (operation.get("responses") or {}).get(status) or {}
            found.append((operation_id, status, JSON, JSON in (response.get("content") or {})))
    return found


def attach_examples(document: dict[str, Any]) -> None:
    """Put the table's examples on the operations' request bodies and answers.

    An entry whose operation, status or media type the document lacks is skipped (the served
    document must not fail over an example); the tests require that every entry lands.
    """
    operations = _operations(document)
    for operation_id, table in EXAMPLES.items():
        operation = operations.get(operation_id)
        if operation is None:
            continue
        if table.request:
            content = (operation.get("requestBody") or {}).get("content") or {}
            if JSON in content:
                _place(content[JSON], table.request)
        responses = operation.get("responses") or {}
        for status, examples in table.responses.items():
            content = (responses.get(status) or {}).get("content") or {}
            if JSON in content:
                _place(content[JSON], examples)

"""Domain errors.

Each error carries exactly what the HTTP edge needs to render the contract's body, so the
mapping in the entrypoint is a table, not logic. The wire families (API.md §1.6) are chosen by
the entrypoint; the domain only says *what* went wrong.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- Not found -------------------------------------------------------------------------------


class NotFound(DomainError):
    """A resource the request names does not exist (plain `{"detail": message}` body)."""


class TaskNotFound(NotFound):
    def __init__(self, task_id: int) -> None:
        super().__init__(f"Task with ID {task_id} not found")
        self.task_id = task_id


class TagNotFound(NotFound):
    def __init__(self, task_id: int, tag: str) -> None:
        super().__init__(f"Tag '{tag}' not found on task {task_id}")
        self.task_id = task_id
        self.tag = tag


# --- Forbidden ---------------------------------------------------------------------------------


class Forbidden(DomainError):
    """The caller may not do this (plain `{"detail": message}` body)."""


class TaskAccessDenied(Forbidden):
    """The caller's level on a task is below what the operation needs (Family-A 403)."""

    def __init__(self) -> None:
        super().__init__("You do not have permission to access this task")


# --- Conflict / invalid -----------------------------------------------------------------------


class Conflict(DomainError):
    """The change collides with existing state (409)."""


class DuplicateUser(Conflict):
    def __init__(self, field: str, value: str) -> None:
        super().__init__(f"{field.capitalize()} '{value}' is already registered")
        self.field = field
        self.value = value


class Invalid(DomainError):
    """The request is well-formed but not acceptable (400)."""


class FieldInvalid(DomainError):
    """A single input field breaks a domain rule the boundary could not check (422).

    `loc` follows the contract's validation format, e.g. ("body", "username").
    """

    def __init__(self, loc: tuple[str | int, ...], message: str, value: object) -> None:
        super().__init__(message)
        self.loc = loc
        self.value = value


class AuthenticationFailed(DomainError):
    """Bad credentials or an unusable token (401)."""


class InvalidCredentials(AuthenticationFailed):
    def __init__(self) -> None:
        super().__init__("Invalid username or password")


class PayloadTooLarge(DomainError):
    """An upload or body exceeds its limit (the contract answers 400 for uploads)."""


class ServiceUnavailable(DomainError):
    """A backing service (storage, database) failed; safe to retry later (503)."""


DATABASE_UNAVAILABLE = "Service temporarily unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached right now; the request may be retried shortly (503).

    Raised by the storage adapter in place of its driver's connection errors, so the layers
    above see one error whatever the failure looked like (refused, reset, timed out).
    """

    def __init__(self) -> None:
        super().__init__(DATABASE_UNAVAILABLE)

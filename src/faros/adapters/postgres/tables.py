"""The database schema as SQLAlchemy Core tables (schema ``faros``).

This module describes the schema the migrations build; it never creates anything itself.
``tests/contract/postgres_specific/test_migrations.py`` compares it with a freshly migrated
database, so a change here without a migration (or the reverse) fails the tests.

Every constraint and index carries an explicit name (or one derived from the naming
convention below) so that the migrations can refer to it and the comparison is exact.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

SCHEMA = "faros"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(schema=SCHEMA, naming_convention=NAMING_CONVENTION)


def _timestamp(name: str, *, nullable: bool = False, default_now: bool = True) -> Column[Any]:
    return Column(
        name,
        DateTime(timezone=True),
        nullable=nullable,
        server_default=func.now() if default_now else None,
    )


def _user_fk(name: str) -> Column[Any]:
    return Column(name, Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


def _task_fk() -> Column[Any]:
    return Column("task_id", Integer, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False)


users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(50), nullable=False, unique=True),
    Column("email", String(100), nullable=False, unique=True),
    Column("hashed_password", String(255), nullable=False),
    _timestamp("created_at"),
    Column("avatar_url", String(255), nullable=True),
    Column("email_verified", Boolean, nullable=False, server_default=false()),
    # SHA-256 hex digests of the tokens mailed out, never the tokens themselves.
    Column("verification_code", String(128), nullable=True),
    _timestamp("verification_expires", nullable=True, default_now=False),
    Column("password_reset_token", String(128), nullable=True),
    _timestamp("password_reset_token_expires", nullable=True, default_now=False),
    # Bumped by password change/reset: every token issued with an older version is void.
    Column("token_version", Integer, nullable=False, server_default=text("0")),
    # Each avatar upload gets a key of its own; `avatar_url` keeps the contract's public shape.
    Column("avatar_key", String(255), nullable=True),
    Index("ix_users_verification_code", "verification_code"),
    Index("ix_users_password_reset_token", "password_reset_token"),
)
# E-mail addresses are unique case-insensitively (registration checks lower(email)).
Index("ix_users_email_lower", func.lower(users.c.email), unique=True)
# New usernames are unique case-insensitively too, but not by this index: older databases may
# hold names that differ only in case (see PostgresUserRepository.add). It serves the check.
Index("ix_users_username_lower", func.lower(users.c.username))

tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("description", String(1000), nullable=True),
    Column("completed", Boolean, nullable=False, server_default=false()),
    Column("priority", String(20), nullable=False),
    _timestamp("created_at"),
    Column("due_date", Date, nullable=True),
    Column("tags", ARRAY(String), nullable=False, server_default=text("'{}'")),
    Column("notes", String(500), nullable=True),
    _user_fk("user_id"),
    # The due date for which the "due soon" e-mail went out (once per task and due date).
    Column("due_reminder_sent_for", Date, nullable=True),
    # What the ETag of the task carries: +1 on every change to what reading it shows.
    Column("version", Integer, nullable=False, server_default=text("1")),
    CheckConstraint("priority IN ('low', 'medium', 'high')", name="priority"),
    Index("ix_tasks_user_id_id", "user_id", "id"),
    Index("ix_tasks_user_id_created_at", "user_id", "created_at"),
    Index("ix_tasks_tags", "tags", postgresql_using="gin"),
    Index("ix_tasks_due_date_open", "due_date", postgresql_where=text("completed = false")),
)

task_files = Table(
    "task_files",
    metadata,
    Column("id", Integer, primary_key=True),
    _task_fk(),
    Column("original_filename", String(255), nullable=False),
    Column("stored_filename", String(255), nullable=False, unique=True),
    Column("file_size", Integer, nullable=False),
    Column("content_type", String(100), nullable=True),
    _timestamp("uploaded_at"),
    Index("ix_task_files_task_id", "task_id"),
)

task_comments = Table(
    "task_comments",
    metadata,
    Column("id", Integer, primary_key=True),
    _task_fk(),
    _user_fk("user_id"),
    Column("content", String(1000), nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at", nullable=True, default_now=False),
    Index("ix_task_comments_task_id_id", "task_id", "id"),
    Index("ix_task_comments_user_id", "user_id"),
)

task_shares = Table(
    "task_shares",
    metadata,
    Column("id", Integer, primary_key=True),
    _task_fk(),
    _user_fk("shared_with_user_id"),
    Column("permission", String(20), nullable=False),
    _timestamp("shared_at"),
    _user_fk("shared_by_user_id"),
    CheckConstraint("permission IN ('view', 'edit')", name="permission"),
    UniqueConstraint("task_id", "shared_with_user_id", name="uq_task_shares_task_user"),
    Index("ix_task_shares_shared_with_user_id", "shared_with_user_id"),
    Index("ix_task_shares_shared_by_user_id", "shared_by_user_id"),
)

notification_preferences = Table(
    "notification_preferences",
    metadata,
    Column(
        "user_id",
        Integer,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("email_verified", Boolean, nullable=False, server_default=false()),
    Column("email_enabled", Boolean, nullable=False, server_default=true()),
    Column("task_shared_with_me", Boolean, nullable=False, server_default=true()),
    Column("task_completed", Boolean, nullable=False, server_default=false()),
    Column("comment_on_my_task", Boolean, nullable=False, server_default=true()),
    Column("task_due_soon", Boolean, nullable=False, server_default=true()),
    _timestamp("created_at"),
    _timestamp("updated_at", nullable=True, default_now=False),
)

activity_logs = Table(
    "activity_logs",
    metadata,
    Column("id", Integer, primary_key=True),
    _user_fk("user_id"),
    Column("action", String(50), nullable=False),
    Column("resource_type", String(50), nullable=False),
    Column("resource_id", Integer, nullable=False),
    # The task an entry is about; no foreign key, so the history outlives the task.
    Column("task_id", Integer, nullable=True),
    Column("details", JSON, nullable=True),  # JSON keeps the key order of §4
    _timestamp("created_at"),
    Index("ix_activity_logs_user_id", "user_id"),
    Index("ix_activity_logs_created_at", "created_at"),
    Index("ix_activity_logs_resource_type_resource_id", "resource_type", "resource_id"),
    Index("ix_activity_logs_action", "action"),
    Index("ix_activity_logs_task_id_created_at", "task_id", "created_at"),
)
# GET /activity: a user's newest entries first, keyset-paginated on (created_at, id).
Index(
    "ix_activity_logs_user_id_created_at_id",
    activity_logs.c.user_id,
    activity_logs.c.created_at.desc(),
    activity_logs.c.id.desc(),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("kind", String(50), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("dedupe_key", String(200), nullable=True, unique=True),
    Column("status", String(20), nullable=False, server_default=text("'pending'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    _timestamp("available_at"),
    _timestamp("created_at"),
    _timestamp("processed_at", nullable=True, default_now=False),
    Column("last_error", Text, nullable=True),
    CheckConstraint("status IN ('pending', 'done', 'dead')", name="status"),
    Index("ix_outbox_pending", "available_at", "id", postgresql_where=text("status = 'pending'")),
)

revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("jti", String(64), primary_key=True),
    _timestamp("expires_at", default_now=False),
    Index("ix_revoked_tokens_expires_at", "expires_at"),
)

# Personal access tokens (migration 0006): the SHA-256 of each secret, never the secret.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    _user_fk("user_id"),
    Column("name", String(100), nullable=False),
    Column("scopes", ARRAY(String(20)), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    _timestamp("created_at"),
    _timestamp("expires_at", default_now=False),
    _timestamp("last_used_at", nullable=True, default_now=False),
    Index("ix_api_tokens_user_id_id", "user_id", "id"),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Integer, primary_key=True),
    _user_fk("user_id"),
    Column("url", String(2000), nullable=False),
    Column("events", ARRAY(String(50)), nullable=False),
    Column("description", String(500), nullable=True),
    # Shown once, but needed in full to sign every delivery: stored as it is.
    Column("secret", String(100), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    _timestamp("created_at"),
    _timestamp("updated_at", nullable=True, default_now=False),
    Column("consecutive_failures", Integer, nullable=False, server_default=text("0")),
    _timestamp("failing_since", nullable=True, default_now=False),
    Column("disabled_reason", Text, nullable=True),
    Index("ix_webhooks_user_id", "user_id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column(
        "webhook_id",
        Integer,
        ForeignKey("webhooks.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event_id", String(64), nullable=False),
    Column("event_type", String(50), nullable=False),
    Column("body", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("response_code", Integer, nullable=True),
    Column("duration_ms", Integer, nullable=False),
    Column("error", Text, nullable=True),
    _timestamp("created_at"),
    CheckConstraint("status IN ('succeeded', 'failed')", name="status"),
    Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column(
        "user_id",
        Integer,
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", LargeBinary, nullable=False),
    Column("status_code", SmallInteger, nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("location", Text, nullable=True),
    Column("body", LargeBinary, nullable=False),
    _timestamp("created_at"),
    _timestamp("expires_at", default_now=False),
    Index("ix_idempotency_keys_expires_at", "expires_at"),
)

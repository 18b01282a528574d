"""The complete initial schema.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25

Written by hand.  Names follow the naming convention of ``faros.adapters.postgres.tables``
(pk_<table>, fk_<table>_<column>_<referred table>, uq_/ix_<table>_<columns>, ck_<table>_<name>);
tests/contract/postgres_specific/test_migrations.py compares the result with that module.
CHECK names are wrapped in ``op.f()``: alembic applies the target metadata's naming convention to operations, and ``op.f`` marks a
name as final.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "faros"

TIMESTAMPTZ = sa.DateTime(timezone=True)
NOW = sa.text("now()")
FALSE = sa.text("false")
TRUE = sa.text("true")


def _fk(table: str, column: str, referred: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{SCHEMA}.{referred}.id"],
        name=f"fk_{table}_{column}_{referred}",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("username", sa.String(50), nullable=False),
        sa.Column("email", sa.String(100), nullable=False),
        sa.Column("hashed_password", sa.String(255), nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
        sa.Column("avatar_url", sa.String(255), nullable=True),
        sa.Column("email_verified", sa.Boolean, nullable=False, server_default=FALSE),
        sa.Column("verification_code", sa.String(128), nullable=True),
        sa.Column("verification_expires", TIMESTAMPTZ, nullable=True),
        sa.Column("password_reset_token", sa.String(128), nullable=True),
        sa.Column("password_reset_token_expires", TIMESTAMPTZ, nullable=True),
        sa.Column("token_version", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_users_email_lower", "users", [sa.text("lower(email)")], unique=True, schema=SCHEMA
    )
    op.create_index("ix_users_verification_code", "users", ["verification_code"], schema=SCHEMA)
    op.create_index(
        "ix_users_password_reset_token", "users", ["password_reset_token"], schema=SCHEMA
    )

    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(1000), nullable=True),
        sa.Column("completed", sa.Boolean, nullable=False, server_default=FALSE),
        sa.Column("priority", sa.String(20), nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
        sa.Column("due_date", sa.Date, nullable=True),
        sa.Column(
            "tags", postgresql.ARRAY(sa.String), nullable=False, server_default=sa.text("'{}'")
        ),
        sa.Column("notes", sa.String(500), nullable=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("due_reminder_sent_for", sa.Date, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        _fk("tasks", "user_id", "users"),
        sa.CheckConstraint("priority IN ('low', 'medium', 'high')", name=op.f("ck_tasks_priority")),
        schema=SCHEMA,
    )
    op.create_index("ix_tasks_user_id_id", "tasks", ["user_id", "id"], schema=SCHEMA)
    op.create_index(
        "ix_tasks_user_id_created_at", "tasks", ["user_id", "created_at"], schema=SCHEMA
    )
    op.create_index("ix_tasks_tags", "tasks", ["tags"], postgresql_using="gin", schema=SCHEMA)
    op.create_index(
        "ix_tasks_due_date_open",
        "tasks",
        ["due_date"],
        postgresql_where=sa.text("completed = false"),
        schema=SCHEMA,
    )

    op.create_table(
        "task_files",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("task_id", sa.Integer, nullable=False),
        sa.Column("original_filename", sa.String(255), nullable=False),
        sa.Column("stored_filename", sa.String(255), nullable=False),
        sa.Column("file_size", sa.Integer, nullable=False),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("uploaded_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_task_files"),
        _fk("task_files", "task_id", "tasks"),
        sa.UniqueConstraint("stored_filename", name="uq_task_files_stored_filename"),
        schema=SCHEMA,
    )
    op.create_index("ix_task_files_task_id", "task_files", ["task_id"], schema=SCHEMA)

    op.create_table(
        "task_comments",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("task_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("content", sa.String(1000), nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
        sa.Column("updated_at", TIMESTAMPTZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_task_comments"),
        _fk("task_comments", "task_id", "tasks"),
        _fk("task_comments", "user_id", "users"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_task_comments_task_id_id", "task_comments", ["task_id", "id"], schema=SCHEMA
    )
    op.create_index("ix_task_comments_user_id", "task_comments", ["user_id"], schema=SCHEMA)

    op.create_table(
        "task_shares",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("task_id", sa.Integer, nullable=False),
        sa.Column("shared_with_user_id", sa.Integer, nullable=False),
        sa.Column("permission", sa.String(20), nullable=False),
        sa.Column("shared_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
        sa.Column("shared_by_user_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_task_shares"),
        _fk("task_shares", "task_id", "tasks"),
        _fk("task_shares", "shared_with_user_id", "users"),
        _fk("task_shares", "shared_by_user_id", "users"),
        sa.CheckConstraint(
            "permission IN ('view', 'edit')", name=op.f("ck_task_shares_permission")
        ),
        sa.UniqueConstraint("task_id", "shared_with_user_id", name="uq_task_shares_task_user"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_task_shares_shared_with_user_id",
        "task_shares",
        ["shared_with_user_id"],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_task_shares_shared_by_user_id", "task_shares", ["shared_by_user_id"], schema=SCHEMA
    )

    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("email_verified", sa.Boolean, nullable=False, server_default=FALSE),
        sa.Column("email_enabled", sa.Boolean, nullable=False, server_default=TRUE),
        sa.Column("task_shared_with_me", sa.Boolean, nullable=False, server_default=TRUE),
        sa.Column("task_completed", sa.Boolean, nullable=False, server_default=FALSE),
        sa.Column("comment_on_my_task", sa.Boolean, nullable=False, server_default=TRUE),
        sa.Column("task_due_soon", sa.Boolean, nullable=False, server_default=TRUE),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
        sa.Column("updated_at", TIMESTAMPTZ, nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_notification_preferences"),
        _fk("notification_preferences", "user_id", "users"),
        schema=SCHEMA,
    )

    op.create_table(
        "activity_logs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("resource_type", sa.String(50), nullable=False),
        sa.Column("resource_id", sa.Integer, nullable=False),
        sa.Column("task_id", sa.Integer, nullable=True),
        sa.Column("details", sa.JSON, nullable=True),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_activity_logs"),
        _fk("activity_logs", "user_id", "users"),
        schema=SCHEMA,
    )
    op.create_index("ix_activity_logs_user_id", "activity_logs", ["user_id"], schema=SCHEMA)
    op.create_index("ix_activity_logs_created_at", "activity_logs", ["created_at"], schema=SCHEMA)
    op.create_index(
        "ix_activity_logs_resource_type_resource_id",
        "activity_logs",
        ["resource_type", "resource_id"],
        schema=SCHEMA,
    )
    op.create_index("ix_activity_logs_action", "activity_logs", ["action"], schema=SCHEMA)
    op.create_index(
        "ix_activity_logs_task_id_created_at",
        "activity_logs",
        ["task_id", "created_at"],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_activity_logs_user_id_created_at_id",
        "activity_logs",
        ["user_id", sa.text("created_at DESC"), sa.text("id DESC")],
        schema=SCHEMA,
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("payload", postgresql.JSONB, nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=True),
        sa.Column("status", sa.String(20), nullable=False, server_default=sa.text("'pending'")),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("available_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
        sa.Column("created_at", TIMESTAMPTZ, nullable=False, server_default=NOW),
        sa.Column("processed_at", TIMESTAMPTZ, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
        sa.CheckConstraint("status IN ('pending', 'done', 'dead')", name=op.f("ck_outbox_status")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["available_at", "id"],
        postgresql_where=sa.text("status = 'pending'"),
        schema=SCHEMA,
    )

    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("expires_at", TIMESTAMPTZ, nullable=False),
        sa.PrimaryKeyConstraint("jti", name="pk_revoked_tokens"),
        schema=SCHEMA,
    )
    op.create_index("ix_revoked_tokens_expires_at", "revoked_tokens", ["expires_at"], schema=SCHEMA)


def downgrade() -> None:
    # Dropping a table drops its indexes, constraints and owned sequences with it.
    for table in (
        "revoked_tokens",
        "outbox",
        "activity_logs",
        "notification_preferences",
        "task_shares",
        "task_comments",
        "task_files",
        "tasks",
        "users",
    ):
        op.drop_table(table, schema=SCHEMA)

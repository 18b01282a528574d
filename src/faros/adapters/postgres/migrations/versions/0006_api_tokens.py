"""Personal access tokens (issue 17).

Revision ID: 0006_api_tokens
Revises: 0005_task_versions
Create Date: 2026-12-05

One row per token: its owner, name, scopes, the SHA-256 of its secret (looked up on every
request that presents one), expiry and last use. Revoking deletes the row.

Every process keeps the tokens it authenticated recently, like the users of migration 0002,
and forgets them when it hears `faros_auth_changed`. So a revocation (DELETE) and any change
that decides what a token may do notify, through 0002's function; recording a use
(`last_used_at`, at most once a minute per token) does not, or every script's traffic would
empty every process's cache once a minute. Creating a token needs no notice: nobody has it
cached.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_api_tokens"
down_revision: str | None = "0005_task_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "faros"


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.String(20)), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            [f"{SCHEMA}.users.id"],
            name="fk_api_tokens_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        schema=SCHEMA,
    )
    op.create_index("ix_api_tokens_user_id_id", "api_tokens", ["user_id", "id"], schema=SCHEMA)
    op.execute(
        f"""
        CREATE TRIGGER api_tokens_auth_changed
        AFTER UPDATE OF user_id, scopes, token_hash, expires_at OR DELETE OR TRUNCATE
        ON {SCHEMA}.api_tokens
        FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.notify_auth_changed()
        """
    )


def downgrade() -> None:
    op.execute(f"DROP TRIGGER api_tokens_auth_changed ON {SCHEMA}.api_tokens")
    op.drop_index("ix_api_tokens_user_id_id", table_name="api_tokens", schema=SCHEMA)
    op.drop_table("api_tokens", schema=SCHEMA)

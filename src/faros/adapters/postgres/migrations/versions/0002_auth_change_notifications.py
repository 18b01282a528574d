"""Notify listeners when a user or the token deny-list changes.

Revision ID: 0002_auth_change_notifications
Revises: 0001_initial
Create Date: 2026-11-25

Every FAROS process keeps the users it authenticated recently (adapters/postgres/auth_cache.py)
and drops them all when it hears `faros_auth_changed`. A trigger rather than application code
sends it, so any change counts: a logout, a password change, an e-mail verification, or an
operator's UPDATE/DELETE in psql. NOTIFY is transactional: listeners hear it when the change
commits, never for a change that rolls back.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002_auth_change_notifications"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "faros"
CHANNEL = "faros_auth_changed"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION {SCHEMA}.notify_auth_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER users_auth_changed
        AFTER UPDATE OR DELETE OR TRUNCATE ON {SCHEMA}.users
        FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.notify_auth_changed()
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER revoked_tokens_auth_changed
        AFTER INSERT ON {SCHEMA}.revoked_tokens
        FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.notify_auth_changed()
        """
    )


def downgrade() -> None:
    op.execute(f"DROP TRIGGER revoked_tokens_auth_changed ON {SCHEMA}.revoked_tokens")
    op.execute(f"DROP TRIGGER users_auth_changed ON {SCHEMA}.users")
    op.execute(f"DROP FUNCTION {SCHEMA}.notify_auth_changed()")

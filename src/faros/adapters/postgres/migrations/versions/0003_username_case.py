"""An index on lower(username), for registration's case-insensitive username check.

Revision ID: 0003_username_case
Revises: 0002_auth_change_notifications
Create Date: 2026-11-26

New usernames must differ from every existing one ignoring case. The index is not unique: a
database of the original FAROS may hold usernames that differ only in case, and they keep
working (login stays exact, D11); a unique index could not be built over them. Registration
serialises the check with an advisory lock instead (adapters/postgres/users.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_username_case"
down_revision: str | None = "0002_auth_change_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "faros"


def upgrade() -> None:
    op.create_index("ix_users_username_lower", "users", [sa.text("lower(username)")], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("ix_users_username_lower", table_name="users", schema=SCHEMA)

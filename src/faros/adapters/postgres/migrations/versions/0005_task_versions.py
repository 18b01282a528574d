"""Tasks carry a version every change increments (issue 17, ETag / If-Match).

Revision ID: 0005_task_versions
Revises: 0004_avatar_keys
Create Date: 2026-12-05

`version` counts the changes to what reading a task shows; its ETag is made from it, and
`If-Match` is compared with it under the row lock of the write. Existing tasks start at 1.
A constant default makes the new column a catalogue change only (PostgreSQL 11+): the table
is not rewritten, so the upgrade is instant however many tasks there are.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_task_versions"
down_revision: str | None = "0004_avatar_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "faros"


def upgrade() -> None:
    op.add_column(
        "tasks",
        sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_column("tasks", "version", schema=SCHEMA)

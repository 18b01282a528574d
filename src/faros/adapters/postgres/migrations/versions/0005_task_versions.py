"""Tasks carry a version every change increments (issue 17, ETag / If-Match).

Revision ID: 0005_task_versions
Revises: 0004_avatar_keys
Create Date: 2026-12-05

Reserved in the revision chain while the feature is built; it changes nothing yet.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0005_task_versions"
down_revision: str | None = "0004_avatar_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "faros"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

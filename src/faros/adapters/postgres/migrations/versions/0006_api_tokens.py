"""Personal access tokens (issue 17).

Revision ID: 0006_api_tokens
Revises: 0005_task_versions
Create Date: 2026-12-05

Reserved in the revision chain while the feature is built; it changes nothing yet.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006_api_tokens"
down_revision: str | None = "0005_task_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "faros"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

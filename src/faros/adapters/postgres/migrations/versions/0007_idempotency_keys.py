"""Stored first answers of Idempotency-Key requests (issue 17).

Revision ID: 0007_idempotency_keys
Revises: 0006_api_tokens
Create Date: 2026-12-05

Reserved in the revision chain while the feature is built; it changes nothing yet.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007_idempotency_keys"
down_revision: str | None = "0006_api_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "faros"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

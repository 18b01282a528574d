"""Webhooks and their deliveries (issue 17).

Revision ID: 0008_webhooks
Revises: 0007_idempotency_keys
Create Date: 2026-12-05

Reserved in the revision chain while the feature is built; it changes nothing yet.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0008_webhooks"
down_revision: str | None = "0007_idempotency_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "faros"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""Store each user's avatar under a key of its own.

Revision ID: 0004_avatar_keys
Revises: 0003_username_case
Create Date: 2026-12-05

Avatars were stored under `avatars/user_<id>_avatar<ext>`, the same key for every upload with
that extension, so a queued removal of a replaced picture could delete the current one (issue
14). Each upload now gets a fresh key, remembered here. Existing rows keep NULL: the domain
reads a missing key as the old fixed one, which is also what rows copied from the original
FAROS need. A downgrade forgets the keys, so avatars uploaded since then read as missing.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_avatar_keys"
down_revision: str | None = "0003_username_case"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "faros"


def upgrade() -> None:
    op.add_column("users", sa.Column("avatar_key", sa.String(255), nullable=True), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("users", "avatar_key", schema=SCHEMA)

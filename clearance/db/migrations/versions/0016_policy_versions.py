"""The history of policy versions: every version a gateway loads (at start and on each reload), its text, where
it was read from, when it was first and last loaded and by which instance (clearance.audit.policy_versions).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("source", sa.String(1024), nullable=False),
        sa.Column("first_loaded_at", sa.Float, nullable=False),
        sa.Column("last_loaded_at", sa.Float, nullable=False),
        sa.Column("instance", sa.String(128), nullable=False),
    )
    op.create_index("ix_policy_versions_first_loaded_at", "policy_versions", ["first_loaded_at", "digest"])


def downgrade() -> None:
    op.drop_index("ix_policy_versions_first_loaded_at", table_name="policy_versions")
    op.drop_table("policy_versions")

"""The approval an audited request asked for, or whose grant it used.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("approval_id", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("approval_id")

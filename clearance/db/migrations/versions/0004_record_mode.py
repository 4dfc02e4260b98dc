"""How the policy asked for each exchange to be recorded (full | masked | metadata).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("record_mode", sa.String(16)))


def downgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("record_mode")

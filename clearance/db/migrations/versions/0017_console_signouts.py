"""Console sessions signed out before their end: a copy of the cookie taken before the sign-out opens nothing after
it, on any instance (clearance.console.signouts).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_signouts",
        sa.Column("sid", sa.String(64), primary_key=True),
        sa.Column("ends_at", sa.Float, nullable=False),
    )
    op.create_index("ix_console_signouts_ends_at", "console_signouts", ["ends_at"])


def downgrade() -> None:
    op.drop_index("ix_console_signouts_ends_at", table_name="console_signouts")
    op.drop_table("console_signouts")

"""What an approval lets through: per type found, whether its values reach the model unmasked once approved.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        # approvals asked before this revision said nothing: an empty mapping, shown as "not recorded"
        batch.add_column(sa.Column("released_as", sa.JSON, nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        batch.drop_column("released_as")

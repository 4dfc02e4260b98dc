"""Every name each approver of an approval went by (subject, email), so one person approving under two logins (an
OIDC login and an API key owned by their email) counts once towards the approvals needed.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        # approvals decided before this revision kept the approvers' subjects only (approved_by): compared as such
        batch.add_column(sa.Column("approver_names", sa.JSON, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        batch.drop_column("approver_names")

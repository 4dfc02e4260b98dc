"""What a rule asks of an approval, kept on it: who must give a reason, the escalation (its groups, when it falls
due, when it was recorded), and break-glass with its review (who acknowledged it, when and why).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch:
        batch.add_column(sa.Column("reason_from", sa.String(16), nullable=False, server_default="none"))
        batch.add_column(sa.Column("escalate_to", sa.JSON))
        batch.add_column(sa.Column("escalate_at", sa.Float))
        batch.add_column(sa.Column("escalated_at", sa.Float))
        batch.add_column(sa.Column("break_glass", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("review", sa.String(16)))
        batch.add_column(sa.Column("reviewed_by", sa.String(256)))
        batch.add_column(sa.Column("reviewed_at", sa.Float))
        batch.add_column(sa.Column("review_reason", sa.Text))
    op.create_index("ix_approval_requests_state_escalate_at", "approval_requests", ["state", "escalate_at"])
    op.create_index("ix_approval_requests_review", "approval_requests", ["review"])


def downgrade() -> None:
    op.drop_index("ix_approval_requests_review", table_name="approval_requests")
    op.drop_index("ix_approval_requests_state_escalate_at", table_name="approval_requests")
    with op.batch_alter_table("approval_requests") as batch:
        for column in (
            "review_reason",
            "reviewed_at",
            "reviewed_by",
            "review",
            "break_glass",
            "escalated_at",
            "escalate_at",
            "escalate_to",
            "reason_from",
        ):
            batch.drop_column(column)

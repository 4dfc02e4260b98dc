"""Approval requests (``clearance.approvals``) and every transition of each.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requester_subject", sa.String(256), nullable=False),
        sa.Column("requester_kind", sa.String(16), nullable=False),
        sa.Column("requester_email", sa.String(320)),
        sa.Column("requester_groups", sa.JSON, nullable=False),
        sa.Column("requester_key_id", sa.String(64)),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("endpoint", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(128), nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("level", sa.String(64), nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("preview", sa.Text, nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("approvers", sa.JSON, nullable=False),
        sa.Column("approvals_needed", sa.Integer, nullable=False),
        sa.Column("grant_seconds", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("requester_reason", sa.Text, nullable=False),
        sa.Column("approved_by", sa.JSON, nullable=False),
    )
    op.create_index("ix_approval_requests_requester_state", "approval_requests", ["requester_subject", "state"])
    op.create_index("ix_approval_requests_state_expires_at", "approval_requests", ["state", "expires_at"])
    op.create_table(
        "approval_transitions",
        sa.Column(
            "approval_id",
            sa.String(64),
            sa.ForeignKey("approval_requests.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("approval_transitions")
    op.drop_index("ix_approval_requests_state_expires_at", table_name="approval_requests")
    op.drop_index("ix_approval_requests_requester_state", table_name="approval_requests")
    op.drop_table("approval_requests")

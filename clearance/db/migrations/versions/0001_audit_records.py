"""The minimal audit record: one row per request, whatever its outcome.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("endpoint", sa.String(64), nullable=False),
        sa.Column("model", sa.String(256)),
        sa.Column("upstream", sa.String(128)),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("bytes_in", sa.Integer, nullable=False),
        sa.Column("bytes_out", sa.Integer, nullable=False),
        sa.Column("stream", sa.Boolean, nullable=False),
        sa.Column("prompt_tokens", sa.Integer),
        sa.Column("completion_tokens", sa.Integer),
        sa.Column("total_tokens", sa.Integer),
        sa.Column("error_code", sa.String(64)),
        sa.Column("subject", sa.String(256)),
        sa.Column("client_addr", sa.String(64)),
    )
    op.create_index("ix_audit_records_created_at", "audit_records", ["created_at"])
    op.create_index("ix_audit_records_request_id", "audit_records", ["request_id"])
    op.create_table(
        "heartbeats",
        sa.Column("instance", sa.String(64), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("heartbeats")
    op.drop_index("ix_audit_records_request_id", "audit_records")
    op.drop_index("ix_audit_records_created_at", "audit_records")
    op.drop_table("audit_records")

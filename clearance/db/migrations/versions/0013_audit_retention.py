"""Retention purges: the signed purge checkpoints (``audit_purges``) and one tombstone per purged leaf.

A purge deletes a record, or nulls its text, and leaves its leaf in the tree; its tombstone keeps the leaf hash of
the row as it was (and, for a row kept without its text, the hash of the row left) so that ``clearance audit
verify`` reports it as purged, provided a checkpoint signed with the log's key names the purge.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_purges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "audit_tombstones",
        sa.Column("leaf_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("kept_hash", sa.LargeBinary(32)),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("purge_id", sa.Integer, nullable=False),
    )
    op.create_index("ix_audit_tombstones_purge_id", "audit_tombstones", ["purge_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_tombstones_purge_id", table_name="audit_tombstones")
    op.drop_table("audit_tombstones")
    op.drop_table("audit_purges")

"""The audit trail's Merkle tree: its head (the frontier), its leaves, and the signed checkpoints taken of it.

Records written before this revision are not leaves: the head's ``base_record_id`` says up to which record id the
trail predates the tree, and ``clearance audit verify`` checks only the records after it.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    head = op.create_table(
        "audit_tree_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("nodes", sa.LargeBinary, nullable=False),
        sa.Column("base_record_id", sa.Integer, nullable=False),
    )
    op.create_table(
        "audit_leaves",
        sa.Column("leaf_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("record_id", sa.Integer, nullable=False, unique=True),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    base = op.get_bind().execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM audit_records")).scalar_one()
    op.bulk_insert(head, [{"id": 1, "size": 0, "nodes": b"", "base_record_id": int(base)}])


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_leaves")
    op.drop_table("audit_tree_head")

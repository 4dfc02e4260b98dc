"""The sealed originals (``audit.originals``): the SHA-256 of a record's envelope in its row (covered by its leaf),
the envelopes in a table of their own (deleting one erases a record's originals and leaves every proof intact), and
the reveals of them by auditors. Records written before it have no originals.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("originals_sha256", sa.String(64)))
    op.create_table(
        "audit_originals",
        sa.Column("record_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("kek_id", sa.String(64), nullable=False),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "audit_reveals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_reveals_record_id", "audit_reveals", ["record_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_reveals_record_id", table_name="audit_reveals")
    op.drop_table("audit_reveals")
    op.drop_table("audit_originals")
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("originals_sha256")

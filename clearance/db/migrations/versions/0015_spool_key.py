"""The spool key of each audit record (its instance and a sequence number), unique: a record replayed from the
audit spool after a crash is recognised and not written twice (clearance.audit.spool).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("spool_key", sa.String(64)))
        batch.create_index("ux_audit_records_spool_key", ["spool_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_index("ux_audit_records_spool_key")
        batch.drop_column("spool_key")

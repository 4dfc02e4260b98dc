"""Decisions in the audit record: the action, its rule and reasons, the level, and counts per entity type.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("decision", sa.String(32)))
        batch.add_column(sa.Column("rule", sa.String(128)))
        batch.add_column(sa.Column("reasons", sa.JSON))
        batch.add_column(sa.Column("level", sa.String(64)))
        batch.add_column(sa.Column("declared_label", sa.String(64)))
        batch.add_column(sa.Column("findings", sa.JSON))
        batch.add_column(sa.Column("masked_request", sa.JSON))
        batch.add_column(sa.Column("masked_response", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        for column in (
            "masked_response",
            "masked_request",
            "findings",
            "declared_label",
            "level",
            "reasons",
            "rule",
            "decision",
        ):
            batch.drop_column(column)

"""The session record: instance, the caller's e-mail, groups, auth method and API key id, user agent, finding
positions, the forwarded request and returned answer (redacted, as the record mode keeps them), truncation, time
to first token, and the policy and detector versions. Records written before it keep every new column empty
(``truncated`` false), so they stay readable.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("instance", sa.String(128)),
    ("email", sa.String(320)),
    ("groups", sa.JSON),
    ("auth_method", sa.String(16)),
    ("key_id", sa.String(64)),
    ("user_agent", sa.String(512)),
    ("positions", sa.JSON),
    ("request_text", sa.Text),
    ("response_text", sa.Text),
    ("ttft_ms", sa.Float),
    ("policy_version", sa.String(64)),
    ("detector_version", sa.String(64)),
)


def upgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        for name, kind in _COLUMNS:
            batch.add_column(sa.Column(name, kind))
        batch.add_column(sa.Column("truncated", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("truncated")
        for name, _kind in reversed(_COLUMNS):
            batch.drop_column(name)

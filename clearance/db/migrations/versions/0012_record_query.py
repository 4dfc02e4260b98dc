"""What the record query and the policy what-if need: the caller's kind, the model's name as the policy saw it,
and an index per subject.

``identity_kind`` (user, service, anonymous) is an input of every policy decision (a clearance or a rule selects
service accounts by kind), and neither the subject nor the way the caller authenticated tells it: an OIDC token may
be a user's or a service's. ``clearance policy replay`` infers it for records written before this revision (an API
key is a service, OIDC a user) and says how many it inferred. ``policy_model`` is the route's name for the model,
which the policy decides on, where ``model`` is the name the caller asked for (perhaps an alias); for older records
the replay uses ``model``. The subject index serves "my records" and the search
by user, newest first.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("identity_kind", sa.String(16)))
        batch.add_column(sa.Column("policy_model", sa.String(256)))
    op.create_index("ix_audit_records_subject_id", "audit_records", ["subject", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_records_subject_id", table_name="audit_records")
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("policy_model")
        batch.drop_column("identity_kind")

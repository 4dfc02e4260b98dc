"""Every table of the gateway's database, in one SQLAlchemy Core ``MetaData``.

The Alembic history (``migrations/``) creates and changes them; a test checks that the two agree. A new table goes
here and into a new migration, never into the package that uses it.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
)

metadata = MetaData()

audit_records = Table(  # one row per exchange (clearance.audit)
    "audit_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("method", String(8), nullable=False),
    Column("endpoint", String(64), nullable=False),
    Column("model", String(256)),
    Column("upstream", String(128)),
    Column("status", Integer, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("bytes_in", Integer, nullable=False),
    Column("bytes_out", Integer, nullable=False),
    Column("stream", Boolean, nullable=False),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("total_tokens", Integer),
    Column("error_code", String(64)),
    Column("subject", String(256)),
    Column("client_addr", String(64)),
    Column("decision", String(32)),
    Column("rule", String(128)),
    Column("reasons", JSON),
    Column("level", String(64)),
    Column("declared_label", String(64)),
    Column("findings", JSON),
    Column("masked_request", JSON),
    Column("masked_response", JSON),
    Column("record_mode", String(16)),
    Column("approval_id", String(64)),
    # the session record (0010): who, from where, where the findings sit, the text the record mode keeps (redacted),
    # the time to first token, and the policy and detector versions that decided
    Column("instance", String(128)),
    Column("email", String(320)),
    Column("groups", JSON),
    Column("auth_method", String(16)),
    Column("key_id", String(64)),
    Column("user_agent", String(512)),
    Column("positions", JSON),
    Column("request_text", Text),
    Column("response_text", Text),
    Column("truncated", Boolean, nullable=False, server_default=false()),
    Column("ttft_ms", Float),
    Column("policy_version", String(64)),
    Column("detector_version", String(64)),
    Column("identity_kind", String(16)),  # user, service or anonymous: a policy input (0012)
    Column("policy_model", String(256)),  # the route's name for the model, the policy's input (0012)
    # the SHA-256 of the record's sealed originals (0014): the leaf covers it, the envelope is in audit_originals
    Column("originals_sha256", String(64)),
    # 0015: the record's instance and sequence number; a replay from the audit spool skips keys already written
    Column("spool_key", String(64)),
    Index("ix_audit_records_created_at", "created_at"),
    Index("ix_audit_records_request_id", "request_id"),
    Index("ix_audit_records_subject_id", "subject", "id"),  # "my records", search by user (0012)
    Index("ux_audit_records_spool_key", "spool_key", unique=True),
)

audit_originals = Table(  # a record's sealed originals (clearance.audit.originals); deleting a row erases them
    "audit_originals",
    metadata,
    Column("record_id", Integer, primary_key=True, autoincrement=False),  # audit_records.id; no foreign key
    Column("request_id", String(128), nullable=False),
    Column("kek_id", String(64), nullable=False),
    Column("envelope", LargeBinary, nullable=False),
)

audit_reveals = Table(  # each time an auditor revealed a record's originals (clearance.audit.reveals)
    "audit_reveals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("record_id", Integer, nullable=False),
    Column("revealed_at", DateTime(timezone=True), nullable=False),
    Column("subject", String(256), nullable=False),
    Column("email", String(320)),
    Column("reason", Text, nullable=False),
    Index("ix_audit_reveals_record_id", "record_id"),
)

audit_tree_head = Table(  # one row (id 1): the Merkle tree of the audit records as it stands (clearance.audit.tree)
    "audit_tree_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("nodes", LargeBinary, nullable=False),  # the frontier: its perfect subtrees' roots, 32 bytes each
    Column("base_record_id", Integer, nullable=False),  # records up to this id predate the tree (0010)
)

audit_leaves = Table(  # one row per leaf of the tree, in append order: which record it is and its hash
    "audit_leaves",
    metadata,
    Column("leaf_index", BigInteger, primary_key=True, autoincrement=False),
    Column("record_id", Integer, nullable=False, unique=True),  # audit_records.id; no foreign key: verify sees deletes
    Column("request_id", String(128), nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
)

audit_checkpoints = Table(  # the signed checkpoints taken, each also exported where the database cannot rewrite it
    "audit_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

audit_purges = Table(  # one row per retention purge (clearance.audit.purge): the signed checkpoint that names it
    "audit_purges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("size", BigInteger, nullable=False),  # the tree size the purge's checkpoint signs
    Column("count", Integer, nullable=False),
    Column("digest", String(64), nullable=False),  # sha256 of the purged leaves' lines, as the note's extension
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

audit_tombstones = Table(  # one row per leaf whose record a purge deleted or emptied of its text (0013)
    "audit_tombstones",
    metadata,
    Column("leaf_index", BigInteger, primary_key=True, autoincrement=False),
    Column("record_id", Integer, nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),  # the leaf as written: the row before the purge
    Column("kept_hash", LargeBinary(32)),  # keep_metadata: the leaf hash of the row left; null: the row was deleted
    Column("purged_at", DateTime(timezone=True), nullable=False),
    Column("rule", String(64), nullable=False),  # the retention rule's level (or "default")
    Column("purge_id", Integer, nullable=False),  # audit_purges.id; no foreign key: verify sees a missing purge
    Index("ix_audit_tombstones_purge_id", "purge_id"),
)

heartbeats = Table(  # one row per gateway process: the audit store's readiness probe
    "heartbeats",
    metadata,
    Column("instance", String(64), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

api_keys = Table(  # gateway-issued API keys (clearance.auth.keys): hashes only; times are Unix seconds
    "clearance_api_keys",
    metadata,
    Column("key_id", String(12), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("owner", String(255), nullable=False),
    Column("label", String(255), nullable=False, server_default=""),
    Column("groups", Text, nullable=False, server_default="[]"),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=True),
    Column("revoked_at", Float, nullable=True),
    Column("last_used_at", Float, nullable=True),
)

approval_requests = Table(  # one row per approval request (clearance.approvals); times are Unix seconds
    "approval_requests",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    # how many transitions the row holds: every write checks it is still the one read (optimistic concurrency)
    Column("state", String(16), nullable=False),
    Column("requester_subject", String(256), nullable=False),
    Column("requester_kind", String(16), nullable=False),
    Column("requester_email", String(320)),
    Column("requester_groups", JSON, nullable=False),
    Column("requester_key_id", String(64)),
    Column("model", String(256), nullable=False),
    Column("endpoint", String(64), nullable=False),
    Column("rule", String(128), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("level", String(64), nullable=False),
    Column("counts", JSON, nullable=False),
    Column("preview", Text, nullable=False),
    Column("body_sha256", String(64), nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("approvers", JSON, nullable=False),
    Column("approvals_needed", Integer, nullable=False),
    Column("grant_seconds", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("requester_reason", Text, nullable=False),
    Column("approved_by", JSON, nullable=False),
    # the rule's reason, escalation and break-glass, kept as they were when the approval was made (0007)
    Column("reason_from", String(16), nullable=False, server_default="none"),
    Column("escalate_to", JSON),
    Column("escalate_at", Float),
    Column("escalated_at", Float),
    Column("break_glass", Boolean, nullable=False, server_default=false()),
    Column("review", String(16)),
    Column("reviewed_by", String(256)),
    Column("reviewed_at", Float),
    Column("review_reason", Text),
    Column("released_as", JSON, nullable=False, server_default="{}"),  # per type: unmasked, or the operator applied
    # every name the approvers so far went by, so one person under two logins approves once (0009)
    Column("approver_names", JSON, nullable=False, server_default="[]"),
    Index("ix_approval_requests_requester_state", "requester_subject", "state"),
    Index("ix_approval_requests_state_expires_at", "state", "expires_at"),
    Index("ix_approval_requests_state_escalate_at", "state", "escalate_at"),
    Index("ix_approval_requests_review", "review"),
)

approval_transitions = Table(  # one row per step of an approval's life, numbered from 0 (its creation)
    "approval_transitions",
    metadata,
    Column("approval_id", String(64), ForeignKey("approval_requests.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("state", String(16), nullable=False),
    Column("actor", String(256), nullable=False),
    Column("at", Float, nullable=False),
    Column("reason", Text, nullable=False),
)

policy_versions = Table(  # one row per policy version a gateway loaded (clearance.audit.policy_versions); Unix seconds
    "policy_versions",
    metadata,
    Column("digest", String(64), primary_key=True),  # sha256 of the text: what audit_records.policy_version names
    Column("text", Text, nullable=False),
    Column("source", String(1024), nullable=False),  # the file's path when last loaded, or "(built-in default)"
    Column("first_loaded_at", Float, nullable=False),
    Column("last_loaded_at", Float, nullable=False),
    Column("instance", String(128), nullable=False),  # the gateway instance that loaded it last
    Index("ix_policy_versions_first_loaded_at", "first_loaded_at", "digest"),
)

"""Every table of the gateway's database, in one SQLAlchemy Core ``MetaData``.

The Alembic history (``migrations/``) creates and changes them; a test checks that the two agree. A new table goes
here and into a new migration, never into the package that uses it.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
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
    Index("ix_audit_records_created_at", "created_at"),
    Index("ix_audit_records_request_id", "request_id"),
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

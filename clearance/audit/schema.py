"""The audit database's tables, as SQLAlchemy Core metadata. Alembic migrations (``migrations/``) create them."""

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
)

metadata = MetaData()

audit_records = Table(
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

heartbeats = Table(
    "heartbeats",
    metadata,
    Column("instance", String(64), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

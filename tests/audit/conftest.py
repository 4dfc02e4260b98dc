"""The audit trail tests' database (SQLite and PostgreSQL), signer key and record factory."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearance.audit.note import Ed25519NoteSigner
from clearance.models import AuditRecord, Usage

ORIGIN = "audit.test/clearance"


def make_signer(seed: int = 7) -> Ed25519NoteSigner:
    """A fixed key (tests never depend on random keys)."""
    return Ed25519NoteSigner(ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32))


def trail_record(i: int) -> AuditRecord:
    return AuditRecord(
        request_id=f"req-{i}", started_at=1_700_000_000.25 + i, endpoint="chat.completions", method="POST",
        status=200, model="m", upstream="u", latency_ms=1.5 + i, bytes_in=10, bytes_out=20 + i,
        usage=Usage(1, 2, 3), reasons=("r1",), findings={"EMAIL_ADDRESS": 1},
    )  # fmt: skip


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def trail_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each kind the audit trail runs on."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'trail.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url

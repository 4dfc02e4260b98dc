"""A row of ``audit_records`` as the API's resources: every field, times in seconds, the text only in the whole
record."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clearance.admin.record_resources import RecordResource, RecordSummary
from clearance.audit.store import SqlAuditStore, _row
from clearance.models import AuditRecord, FindingPosition
from tests.audit.conftest import trail_record


def record_row(record: AuditRecord | None = None, **columns: Any) -> dict[str, Any]:
    """A row of ``audit_records`` as the store writes ``record`` (``trail_record(1)`` by default), with record id 9
    and ``columns`` over it: for the readers of rows, without a database."""
    row = _row(record or trail_record(1))
    return {**row, "id": 9, "truncated": bool(row.get("truncated")), **columns}


async def test_when_a_stored_record_is_read_back_then_its_resource_holds_what_was_recorded(tmp_path: Path) -> None:
    store = SqlAuditStore(f"sqlite:///{tmp_path / 'r.db'}", linger_s=0)
    await store.start()
    store.record(
        replace(
            trail_record(3),
            subject="sam",
            groups=("engineering",),
            identity_kind="service",
            positions=(FindingPosition("EMAIL_ADDRESS", ("messages", 0, "content"), 4, 21),),
            request_text='{"messages": [{"content": "hi [EMAIL_ADDRESS]"}]}',
        )
    )
    await store.flush()
    [row] = store.recent(1)
    await store.close()

    whole = RecordResource.of(row)
    summary = RecordSummary.of(row)

    assert whole.created_at == trail_record(3).started_at
    assert (whole.subject, whole.identity_kind, whole.groups) == ("sam", "service", ["engineering"])
    assert whole.findings == {"EMAIL_ADDRESS": 1}
    assert [p.model_dump() for p in whole.positions] == [
        {"type": "EMAIL_ADDRESS", "path": ["messages", 0, "content"], "start": 4, "end": 21}
    ]
    assert whole.request_text == '{"messages": [{"content": "hi [EMAIL_ADDRESS]"}]}'
    assert summary.model_dump() == whole.model_dump(exclude={"positions", "request_text", "response_text"})
    assert "request_text" not in summary.model_dump()


def test_when_a_time_comes_back_without_a_zone_then_it_is_read_as_utc() -> None:
    naive = datetime(2026, 1, 31, 12, 0, 0)
    row = {
        "id": 1, "request_id": "r", "created_at": naive, "groups": None, "reasons": None, "findings": None,
        "masked_request": None, "masked_response": None, "truncated": False, "method": "POST", "endpoint": "e",
        "status": 200, "latency_ms": 1.0, "stream": False,
    }  # fmt: skip
    row |= {name: None for name in RecordSummary.model_fields if name not in row and name != "object"}

    assert RecordSummary.of(row).created_at == naive.replace(tzinfo=UTC).timestamp()

"""The audit writer benchmark, shrunk to a smoke run: every writer scenario on both databases writes every record
(the benchmark fails otherwise), and both record modes' gateways are measured and compared."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bench.audit_writer import VARIANTS, RowsOnlyStore, main, sample_record
from clearance.audit.store import SqlAuditStore


async def test_when_the_rows_only_writer_runs_then_it_writes_rows_without_leaves(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rows.db'}"
    plain, reference = RowsOnlyStore(url, linger_s=0), SqlAuditStore(f"sqlite:///{tmp_path / 'tree.db'}", linger_s=0)
    for store in (plain, reference):
        await store.start()
        for n in range(3):
            store.record(sample_record(n))
        await asyncio.wait_for(store.flush(), timeout=10)
    try:
        assert [r["id"] for r in plain.recent()] == [3, 2, 1]
        assert [r["request_text"] for r in plain.recent()] == [r["request_text"] for r in reference.recent()]
        assert "jane.roe@corp-mail.io" not in str(plain.recent())  # the sample is redacted, as a real record is
    finally:
        await plain.close()
        await reference.close()


def test_when_the_benchmark_runs_then_every_scenario_writes_its_records_and_the_modes_are_compared(
    tmp_path: Path,
) -> None:
    out = tmp_path / "figures.json"

    assert main(["--records", "200", "--requests", "10", "--rounds", "1", "--json", str(out)]) == 0

    document = json.loads(out.read_text())
    writer = document["writer"]
    assert [(w["database"], w["variant"]) for w in writer] == [
        (database, variant) for database in ("SQLite", "PostgreSQL") for variant in VARIANTS
    ]
    assert all(w["records"] == 200 and w["records_per_s"] > 0 for w in writer)
    assert [c["record_mode"] for c in document["cpu"]] == ["full", "metadata"]
    assert all(c["requests"] == 10 and c["cpu_seconds"] > 0 for c in document["cpu"])

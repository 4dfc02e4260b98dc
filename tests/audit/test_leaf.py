"""A leaf hashes a row by its values, whatever form the backend gives them back in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from clearance.audit.leaf import leaf_data, record_leaf_hash
from clearance.audit.merkle import leaf_hash
from clearance.audit.store import _row
from tests.audit.conftest import trail_record


def test_when_a_row_is_serialised_then_keys_are_sorted_nulls_left_out_and_the_id_is_not_part_of_it() -> None:
    row = {"request_id": "r", "status": 200, "model": None, "id": 5, "created_at": datetime(2026, 1, 2, tzinfo=UTC)}

    assert leaf_data(row) == b'{"created_at":"2026-01-02T00:00:00.000000Z","request_id":"r","status":200}'


def test_when_a_datetime_comes_back_naive_or_in_another_zone_then_it_hashes_as_the_utc_one_written() -> None:
    written = {"request_id": "r", "created_at": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)}
    naive = {"request_id": "r", "created_at": datetime(2026, 1, 2, 3, 4, 5, 678901)}
    zoned = {
        "request_id": "r",
        "created_at": datetime(2026, 1, 2, 5, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2))),
    }

    assert record_leaf_hash(written) == record_leaf_hash(naive) == record_leaf_hash(zoned)


def test_when_a_float_column_gives_back_a_whole_number_then_it_hashes_as_the_integer_written() -> None:
    assert leaf_data({"request_id": "r", "latency_ms": 5}) == leaf_data({"request_id": "r", "latency_ms": 5.0})
    assert leaf_data({"request_id": "r", "latency_ms": 5.25}) != leaf_data({"request_id": "r", "latency_ms": 5.0})


def test_when_a_json_value_round_trips_then_its_hash_is_unchanged() -> None:
    written = {"request_id": "r", "reasons": ("a", "b"), "findings": {"B": 1, "A": 2}}
    read_back = {"request_id": "r", "reasons": ["a", "b"], "findings": {"A": 2, "B": 1}}

    assert record_leaf_hash(written) == record_leaf_hash(read_back)


def test_when_any_value_of_a_store_row_changes_then_its_leaf_hash_changes() -> None:
    row = _row(trail_record(1))
    base = record_leaf_hash(row)

    for column, value in [("status", 500), ("subject", "x"), ("findings", {"EMAIL_ADDRESS": 2}), ("stream", True)]:
        assert record_leaf_hash({**row, column: value}) != base, column


def test_when_a_leaf_is_hashed_then_it_is_the_rfc_6962_leaf_hash_of_its_data() -> None:
    row = _row(trail_record(1))

    assert record_leaf_hash(row) == leaf_hash(leaf_data(row))

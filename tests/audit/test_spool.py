"""The audit spool: rows come back in order, a torn or corrupt tail is cut and set aside, the bound holds, the
replay position survives a reopen, and a directory in use is not shared."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from clearance.audit.spool import FILE_NAME, Spool, SpoolFull, default_directory


def rows(numbers: range) -> list[dict[str, Any]]:
    return [
        {"request_id": f"req-{i}", "spool_key": f"inst:{i}", "created_at": datetime(2026, 1, 2, 3, 4, 5, i, UTC),
         "findings": {"EMAIL_ADDRESS": i}, "latency_ms": 1.5, "reasons": ["r"], "model": None}
        for i in numbers
    ]  # fmt: skip


def keys(spool: Spool, limit: int = 1000) -> list[str]:
    return [entry.row["spool_key"] for entry in spool.pending(limit)]


def test_when_rows_are_appended_then_they_come_back_in_order_with_their_values(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path, 1 << 20)
    spool.append(rows(range(3)))
    spool.append(rows(range(3, 5)))
    back = spool.pending(10)
    assert [entry.row for entry in back] == rows(range(5))  # datetimes (with their zone) come back as datetimes
    assert not spool.empty
    spool.close()


def test_when_a_row_carries_sealed_originals_then_their_bytes_come_back_as_bytes(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path, 1 << 20)
    sealed = [{**row, "_originals_envelope": bytes(range(256))} for row in rows(range(2))]
    spool.append(sealed)
    spool.close()

    reopened = Spool.open(tmp_path, 1 << 20)
    assert [entry.row for entry in reopened.pending(10)] == sealed
    reopened.close()


def test_when_the_spool_is_reopened_then_it_holds_what_was_appended(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path, 1 << 20)
    spool.append(rows(range(4)))
    spool.close()
    reopened = Spool.open(tmp_path, 1 << 20)
    assert keys(reopened) == [f"inst:{i}" for i in range(4)]
    reopened.close()


def test_when_rows_are_acknowledged_then_only_the_rest_is_pending_also_after_a_reopen(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path, 1 << 20)
    spool.append(rows(range(5)))
    first = spool.pending(2)
    spool.acknowledge(first[-1].end)
    assert keys(spool) == ["inst:2", "inst:3", "inst:4"]
    spool.close()
    reopened = Spool.open(tmp_path, 1 << 20)
    assert keys(reopened) == ["inst:2", "inst:3", "inst:4"]
    reopened.acknowledge(reopened.pending(10)[-1].end)
    assert reopened.empty and reopened.size == 0
    assert not (tmp_path / "0" / FILE_NAME).exists()  # an emptied spool leaves no file behind
    reopened.close()


def test_when_the_last_write_was_torn_then_open_cuts_it_and_keeps_the_whole_entries(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path, 1 << 20)
    spool.append(rows(range(3)))
    spool.close()
    path = tmp_path / "0" / FILE_NAME
    whole = path.stat().st_size
    with path.open("ab") as handle:  # a crash in the middle of the next append: its header and half its payload
        handle.write(b"\x00\x00\x01\x00\x12\x34\x56\x78" + b"{" * 40)
    reopened = Spool.open(tmp_path, 1 << 20)
    assert keys(reopened) == ["inst:0", "inst:1", "inst:2"]
    assert path.stat().st_size == whole == reopened.size
    assert (tmp_path / "0" / f"{FILE_NAME}.corrupt-{whole}").read_bytes().startswith(b"\x00\x00\x01\x00")
    reopened.append(rows(range(3, 4)))  # appends go on after the cut
    assert keys(reopened)[-1] == "inst:3"
    reopened.close()


def test_when_an_entry_fails_its_checksum_then_it_and_what_follows_are_set_aside(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path, 1 << 20)
    spool.append(rows(range(1)))
    one = spool.size
    spool.append(rows(range(1, 3)))
    spool.close()
    path = tmp_path / "0" / FILE_NAME
    data = bytearray(path.read_bytes())
    data[one + 20] ^= 0x01  # a flipped bit in the second entry's payload
    path.write_bytes(bytes(data))
    reopened = Spool.open(tmp_path, 1 << 20)
    assert keys(reopened) == ["inst:0"]
    assert (tmp_path / "0" / f"{FILE_NAME}.corrupt-{one}").stat().st_size == len(data) - one
    reopened.close()


def test_when_an_append_would_pass_max_bytes_then_it_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path, 4096)
    spool.append(rows(range(10)))
    size = spool.size
    with pytest.raises(SpoolFull):
        spool.append(rows(range(10, 40)))
    assert spool.size == size == (tmp_path / "0" / FILE_NAME).stat().st_size
    assert len(keys(spool)) == 10
    spool.close()


def test_when_a_spool_is_held_then_another_opener_gets_the_next_slot_and_a_later_one_the_first(
    tmp_path: Path,
) -> None:
    first = Spool.open(tmp_path, 1 << 20)
    first.append(rows(range(2)))
    second = Spool.open(tmp_path, 1 << 20)
    assert (first.directory.name, second.directory.name) == ("0", "1")
    assert second.empty
    second.close()
    first.close()
    again = Spool.open(tmp_path, 1 << 20)
    assert again.directory.name == "0"
    assert keys(again) == ["inst:0", "inst:1"]  # a restarted gateway finds what the last one left
    again.close()


def test_when_the_file_cannot_be_written_then_an_append_raises_os_error(tmp_path: Path) -> None:
    spool = Spool.open(tmp_path, 1 << 20)
    (spool.directory / FILE_NAME).mkdir()  # what the disk refuses (root ignores read-only modes, not this)
    with pytest.raises(OSError):
        spool.append(rows(range(1)))
    assert spool.size == 0
    spool.close()


def test_when_no_directory_is_configured_then_it_follows_the_database(tmp_path: Path) -> None:
    assert default_directory(f"sqlite:///{tmp_path / 'a.db'}") == Path(f"{tmp_path / 'a.db'}.spool")
    assert default_directory("sqlite://") is None
    assert default_directory("sqlite:///:memory:") is None
    one = default_directory("postgresql+psycopg://postgres@127.0.0.1:5432/one")
    two = default_directory("postgresql+psycopg://postgres@127.0.0.1:5432/two")
    assert one is not None and two is not None and one != two
    assert one.parent.name == "spool"

"""The history of policy versions, on SQLite and on PostgreSQL: one row per version however many loads, the load
times widening, pages newest first, and the recorder writing what the holder swaps in."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from clearance.audit.policy_versions import PolicyVersionStore, VersionLoad, VersionRecorder


@pytest.fixture
def store(trail_url: str) -> Iterator[PolicyVersionStore]:
    versions = PolicyVersionStore(trail_url)
    versions.create_tables()
    yield versions
    versions.close()


def load(n: int, at: float, source: str = "/etc/clearance/policy.yaml") -> VersionLoad:
    return VersionLoad(f"{n:064x}", f"version: 1\ndescription: v{n}\n", source, at)


def test_when_a_version_is_recorded_then_it_reads_back_with_its_text(store: PolicyVersionStore) -> None:
    store.record(load(1, 100.0), "gw-a")

    version = store.get(f"{1:064x}")

    assert version is not None
    assert (version.text, version.source, version.first_loaded_at, version.last_loaded_at, version.instance) == (
        "version: 1\ndescription: v1\n",
        "/etc/clearance/policy.yaml",
        100.0,
        100.0,
        "gw-a",
    )
    assert store.get(f"{2:064x}") is None


def test_when_several_instances_load_the_same_version_then_one_row_covers_every_load(
    store: PolicyVersionStore,
) -> None:
    store.record(load(1, 200.0, "/a.yaml"), "gw-a")
    store.record(load(1, 300.0, "/b.yaml"), "gw-b")
    store.record(load(1, 150.0, "/c.yaml"), "gw-c")  # a slower clock: widens the first load, not the last

    [version] = store.page(limit=10)

    assert (version.first_loaded_at, version.last_loaded_at) == (150.0, 300.0)
    assert (version.source, version.instance) == ("/b.yaml", "gw-b")  # the latest load's
    assert version.text is None  # listings leave the text out


def test_when_instances_record_the_same_version_at_once_then_none_fails(store: PolicyVersionStore) -> None:
    failures: list[BaseException] = []

    def record(i: int) -> None:
        try:
            store.record(load(7, 1000.0 + i), f"gw-{i}")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=record, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    [version] = store.page(limit=10)
    assert (version.first_loaded_at, version.last_loaded_at, version.instance) == (1000.0, 1007.0, "gw-7")


def test_when_paging_then_versions_come_newest_first_and_the_cursor_goes_on(store: PolicyVersionStore) -> None:
    for n in range(5):
        store.record(load(n, 10.0 * n), "gw")
    store.record(load(5, 20.0), "gw")  # the same first load time as version 2: the digest breaks the tie

    first = store.page(limit=3)
    last = first[-1]
    rest = store.page(limit=10, after=(last.first_loaded_at, last.digest))

    assert [v.digest[-1] for v in first + rest] == ["4", "3", "5", "2", "1", "0"]


def test_when_a_source_path_is_longer_than_the_column_then_its_end_is_kept(store: PolicyVersionStore) -> None:
    store.record(load(1, 1.0, "/" + "d" * 2000 + "/policy.yaml"), "gw")
    version = store.get(f"{1:064x}")
    assert version is not None and version.source.endswith("/policy.yaml") and len(version.source) == 1024


async def test_when_the_holder_reloads_then_the_recorder_writes_each_version_in_order(
    store: PolicyVersionStore,
) -> None:
    recorder = VersionRecorder(store, "gw-a")
    recorder.loaded(load(9, 1.0))  # before start: ignored (start records the version in force)
    await recorder.start(load(1, 10.0))
    await asyncio.to_thread(recorder.loaded, load(2, 20.0))  # from a worker thread, as the watcher reloads
    recorder.loaded(load(3, 30.0))  # from the loop, as SIGHUP reloads
    await recorder.close()

    assert [v.digest[-1] for v in store.page(limit=10)] == ["3", "2", "1"]
    recorder.loaded(load(4, 40.0))  # after close: ignored, nothing raised
    assert store.get(f"{4:064x}") is None


class FailingOnce(PolicyVersionStore):
    """Fails to write one version, as a database that is briefly down would."""

    def record(self, load: VersionLoad, instance: str) -> None:
        if load.digest.endswith("bad"):
            raise ConnectionError("database down")
        super().record(load, instance)


async def test_when_a_write_fails_then_the_recorder_logs_it_and_writes_the_next(
    trail_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = FailingOnce(trail_url)
    store.create_tables()
    recorder = VersionRecorder(store, "gw")

    await recorder.start(load(1, 1.0))
    recorder.loaded(VersionLoad("0" * 61 + "bad", "t", "s", 2.0))
    recorder.loaded(load(3, 3.0))
    await recorder.close()

    assert [v.digest[-1] for v in store.page(limit=10)] == ["3", "1"]
    assert "policy version not recorded" in caplog.text
    store.close()

"""The policy holder: loads at start, reloads on change and on SIGHUP, never serves a half-loaded or invalid
policy, and keeps the last good one when a new version is rejected."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import signal
import threading
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from clearance import scan
from clearance.config import PolicySettings
from clearance.endpoints import OPENAI_CHAT
from clearance.enforce.inspector import Inspector
from clearance.exceptions import ConfigError
from clearance.levels import DeclaredLevel, DeclaredLevels
from clearance.models import Decision
from clearance.policy import PolicyHolder, compile_policy
from clearance.policy.compiled import Policy
from clearance.policy.holder import BUILT_IN, LoadedVersion
from clearance.policy.load import read_policy_text
from tests.policy.sample import USERS, facts

# Two valid versions whose decisions cannot be confused: different levels, rules and actions.
VERSION_A = """
version: 1
levels: [{name: low}, {name: high, types: [CREDIT_CARD]}]
clearances: [{groups: [engineering], level: low}]
models: [{name: llama-internal, max_level: high}]
rules: [{id: a-rule, when: {min_level: high}, action: block}]
"""
VERSION_B = """
version: 1
clearances: [{groups: [engineering], level: confidential}]
models: [{name: llama-internal, max_level: restricted}]
rules: [{id: b-rule, when: {types: [CREDIT_CARD]}, action: mask, mask: {operators: {CREDIT_CARD: hash}}}]
"""
INVALID = """
version: 1
clearances: [{groups: [engineering], level: nonexistent}]
rules: [{id: broken, action: explode}]
"""


def write(path: Path, text: str) -> None:
    """Replace the file the way editors and config maps do: a new file renamed over the old one."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def load_policy_text(text: str) -> Policy:
    return compile_policy(read_policy_text(text), text)


def card_decision(holder: PolicyHolder) -> Decision:
    return holder.decide(facts("engineering", counts={"CREDIT_CARD": 1}))


def is_whole_a(d: Decision) -> bool:
    return (d.action, d.rule, d.level) == ("block", "a-rule", "high")


def is_whole_b(d: Decision) -> bool:
    return (d.action, d.rule, d.level, d.plan.operator_for("CREDIT_CARD")) == ("mask", "b-rule", "restricted", "hash")


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    write(path, VERSION_A)
    return path


def test_when_no_file_is_configured_then_the_default_policy_serves() -> None:
    holder = PolicyHolder.from_settings(PolicySettings())
    assert holder.policy.source.description.startswith("built-in default")
    assert holder.decide(facts("anonymous", counts={"CREDIT_CARD": 1})).action == "mask"
    assert holder.classify({"IBAN_CODE": 1}) == "restricted"
    assert holder.reload() is False


def test_when_the_file_is_invalid_at_start_then_the_start_fails_with_every_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    write(path, INVALID)
    with pytest.raises(ConfigError) as info:
        PolicyHolder(path)
    assert [p for p, _ in info.value.errors] == ["clearances.0.level", "rules.0.action"]


def test_when_a_valid_version_is_written_then_reload_swaps_it_in(policy_file: Path) -> None:
    holder = PolicyHolder(policy_file)
    assert is_whole_a(card_decision(holder))
    assert holder.classify({"CREDIT_CARD": 1}) == "high"
    write(policy_file, VERSION_B)
    assert holder.changed()
    assert holder.reload() is True
    assert is_whole_b(card_decision(holder))
    assert not holder.changed()
    assert holder.reload() is False  # same text: nothing to swap


def test_when_an_invalid_version_is_written_then_it_is_rejected_logged_and_the_last_good_serves(
    policy_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    holder = PolicyHolder(policy_file)
    good = holder.policy
    write(policy_file, INVALID)
    with caplog.at_level(logging.ERROR, logger="clearance.policy"):
        assert holder.reload() is False
    assert holder.policy is good
    assert holder.last_error is not None
    rejected = [r for r in caplog.records if "rejected" in r.getMessage()]
    assert len(rejected) == 1
    assert [p for p, _ in rejected[0].__dict__["errors"]] == ["clearances.0.level", "rules.0.action"]
    write(policy_file, VERSION_B)
    assert holder.reload() is True
    assert holder.last_error is None


def test_when_declared_levels_are_given_then_every_version_classifies_with_them_or_is_rejected(
    policy_file: Path,
) -> None:
    declared = DeclaredLevels(MappingProxyType({"TICKET_ID": DeclaredLevel("low", "detection.levels.types.TICKET_ID")}))
    holder = PolicyHolder(policy_file, declared=declared)
    assert holder.classify({"TICKET_ID": 1}) == "low"
    good = holder.policy
    write(policy_file, VERSION_B)  # its scale has no 'low'
    assert holder.reload() is False
    assert holder.policy is good
    assert holder.last_error is not None
    assert [p for p, _ in holder.last_error.errors] == ["detection.levels.types.TICKET_ID"]


def test_when_a_version_leaves_out_a_built_in_type_declared_below_its_unlisted_level_then_it_is_rejected(
    policy_file: Path,
) -> None:
    declared = DeclaredLevels(
        MappingProxyType({"CREDIT_CARD": DeclaredLevel("low", "detection.levels.types.CREDIT_CARD")})
    )
    write(policy_file, "version: 1\nlevels: [low, high]\ntypes: {CREDIT_CARD: low}\n")
    holder = PolicyHolder(policy_file, declared=declared)
    assert holder.classify({"CREDIT_CARD": 1}) == "low"  # the policy itself lists cards at low: it may
    good = holder.policy
    write(policy_file, "version: 1\nlevels: [low, high]\n")  # cards unlisted: high, which the config may not lower
    assert holder.reload() is False
    assert holder.policy is good
    assert holder.last_error is not None
    assert [p for p, _ in holder.last_error.errors] == ["detection.levels.types.CREDIT_CARD"]


def test_when_the_file_disappears_then_the_last_good_serves(policy_file: Path) -> None:
    holder = PolicyHolder(policy_file)
    policy_file.unlink()
    assert holder.changed()
    assert holder.reload() is False
    assert is_whole_a(card_decision(holder))
    assert isinstance(holder.last_error, ConfigError)


def test_when_requests_run_while_versions_change_then_none_fails_or_sees_a_mix(policy_file: Path) -> None:
    """Eight threads decide as fast as they can while a ninth writes valid and invalid versions and reloads.

    The reloading thread waits, after each valid version, until some thread decided under it: both versions are
    seen however the threads are scheduled (no deadline), and every loop is bounded in count."""
    holder = PolicyHolder(policy_file)
    stop = threading.Event()
    seen = {"a": 0, "b": 0}
    decided = {"a": threading.Event(), "b": threading.Event()}
    problems: list[str] = []

    def request_loop() -> None:
        for _ in range(2_000_000):
            if stop.is_set():
                return
            try:
                decision = card_decision(holder)
            except Exception as exc:
                problems.append(repr(exc))
                return
            if is_whole_a(decision):
                seen["a"] += 1
                decided["a"].set()
            elif is_whole_b(decision):
                seen["b"] += 1
                decided["b"].set()
            else:
                problems.append(f"a decision from no single version: {decision}")
                return

    def reload_loop() -> None:
        for i in range(60):
            version = (VERSION_A, INVALID, VERSION_B, INVALID)[i % 4]
            write(policy_file, version)
            holder.reload()
            if version is not INVALID:
                name = "a" if version is VERSION_A else "b"
                decided[name].clear()
                decided[name].wait(timeout=30)  # a guard against a hang, not a measure
        stop.set()

    threads = [threading.Thread(target=request_loop) for _ in range(8)]
    threads.append(threading.Thread(target=reload_loop))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not problems, problems[:3]
    assert seen["a"] > 0
    assert seen["b"] > 0


async def test_when_the_file_changes_then_the_watch_task_reloads_it(policy_file: Path) -> None:
    holder = PolicyHolder(policy_file, poll_interval=0.02)
    holder.start()
    try:
        results: list[Decision] = []

        async def requests() -> None:
            for _ in range(500):
                results.append(card_decision(holder))
                await asyncio.sleep(0.001)

        async def change() -> None:
            await asyncio.sleep(0.05)
            write(policy_file, INVALID)
            await asyncio.sleep(0.1)
            write(policy_file, VERSION_B)

        await asyncio.gather(requests(), requests(), change())
        for _ in range(250):  # up to 5 s
            if is_whole_b(card_decision(holder)):
                break
            await asyncio.sleep(0.02)
        assert is_whole_b(card_decision(holder))
        assert all(is_whole_a(d) or is_whole_b(d) for d in results)
    finally:
        await holder.close()


async def test_when_sighup_arrives_then_the_policy_is_reloaded(policy_file: Path) -> None:
    holder = PolicyHolder(policy_file, poll_interval=3600)  # the watch task would not see it in time
    loop = asyncio.get_running_loop()
    handled = asyncio.Event()

    def on_sighup() -> None:  # what the server's handler does, plus telling the test
        holder.reload()
        handled.set()

    loop.add_signal_handler(signal.SIGHUP, on_sighup)
    try:
        write(policy_file, VERSION_B)
        os.kill(os.getpid(), signal.SIGHUP)
        async with asyncio.timeout(5):
            await handled.wait()
        assert is_whole_b(card_decision(holder))
    finally:
        loop.remove_signal_handler(signal.SIGHUP)


def test_when_the_inspector_uses_the_holder_then_requests_and_answers_are_masked_by_the_current_policy(
    policy_file: Path,
) -> None:
    """The seam the application wires: ``Inspector(classify=holder.classify, decide=holder.decide)``."""
    holder = PolicyHolder(policy_file)
    inspector = Inspector(scan=scan, classify=holder.classify, decide=holder.decide, hash_key=b"k" * 32)
    body = {"model": "llama-internal", "messages": [{"role": "user", "content": "pay 4111-1111-1111-1111"}]}

    def inspect() -> Any:
        return inspector.inspect(
            OPENAI_CHAT, body, identity=USERS["engineering"], model="llama-internal", upstream="local", declared=None
        )

    refused = inspect()
    assert (refused.decision.action, refused.decision.rule) == ("block", "a-rule")
    write(policy_file, VERSION_B)
    holder.reload()
    masked = inspect()
    assert masked.decision.rule == "b-rule"
    sent = masked.body["messages"][0]["content"]
    assert sent.startswith("pay [CREDIT_CARD:")
    assert "4111" not in sent
    assert "4111" not in masked.masker.outgoing("your card 4111-1111-1111-1111")


def test_when_the_new_file_is_not_even_text_then_the_last_good_serves(policy_file: Path) -> None:
    holder = PolicyHolder(policy_file)
    policy_file.write_bytes(b"\xff\xfe\x00 not text")
    assert holder.reload() is False
    assert is_whole_a(card_decision(holder))
    assert holder.last_error is not None
    assert "not UTF-8" in holder.last_error.message


def test_when_loading_fails_unexpectedly_then_reload_still_keeps_the_last_good(
    policy_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = PolicyHolder(policy_file)

    def broken(*_args: object) -> None:
        raise RecursionError

    monkeypatch.setattr("clearance.policy.holder.compile_policy", broken)
    write(policy_file, VERSION_B)
    assert holder.reload() is False
    assert is_whole_a(card_decision(holder))
    assert holder.last_error is not None
    assert "RecursionError" in holder.last_error.message


def test_when_a_version_is_swapped_in_then_listeners_hear_of_it_with_its_source_and_time(policy_file: Path) -> None:
    times = iter([100.0, 200.0, 300.0])
    holder = PolicyHolder(policy_file, clock=lambda: next(times))
    heard: list[LoadedVersion] = []
    holder.listen(heard.append)
    first = holder.loaded

    write(policy_file, VERSION_B)
    assert holder.reload() is True
    assert holder.reload() is False  # the same version again: nothing new to tell

    assert (first.source, first.loaded_at, first.policy.text) == (str(policy_file), 100.0, VERSION_A)
    assert [(v.source, v.loaded_at, v.policy.text) for v in heard] == [(str(policy_file), 200.0, VERSION_B)]
    assert holder.loaded is heard[0] and holder.policy is heard[0].policy


def test_when_a_listener_fails_then_the_new_version_still_serves(
    policy_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    holder = PolicyHolder(policy_file)
    heard: list[LoadedVersion] = []

    def broken(_loaded: LoadedVersion) -> None:
        raise RuntimeError("listener bug")

    holder.listen(broken)
    holder.listen(heard.append)
    write(policy_file, VERSION_B)

    assert holder.reload() is True
    assert is_whole_b(card_decision(holder)) and holder.last_error is None
    assert len(heard) == 1 and "policy listener failed" in caplog.text


def test_when_no_file_is_configured_then_the_default_is_a_version_with_its_canonical_text() -> None:
    loaded = PolicyHolder().loaded
    assert loaded.source == BUILT_IN
    assert loaded.policy.digest == hashlib.sha256(loaded.policy.text.encode()).hexdigest()
    assert load_policy_text(loaded.policy.text).digest == loaded.policy.digest  # the text is a policy file itself

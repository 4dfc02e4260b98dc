"""Originals through the gateway, end to end with the ``openai`` SDK: sealed where the record mode keeps them (whole
and streamed answers), revealed to auditors only, each reveal recorded with its reason redacted, old records still
readable after the active key rotates; and the values of a sensitive corpus, sent with originals on, never in the
database file, the logs, the metrics or the headers."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest

from clearance.auth.keys import ApiKeyStore
from clearance.observability.logging import JsonFormatter
from clearance.testing.fake_upstream import FakeUpstream
from tests.audit.test_envelope import KEY_2025, KEY_2026
from tests.audit.test_no_raw_values import CORPUS, POLICY, ask, sqlite_bytes
from tests.conftest import GatewayFactory, RunningGateway

AUDIT_POLICY = POLICY.replace(
    "clearances:\n", "clearances:\n  - groups: [audit]\n    level: public\n    roles: [user, auditor]\n", 1
)
"""The corpus test's policy (security cleared for everything, support's e-mails as restored placeholders), and an
auditor."""
CARD, EMAIL, TOKEN = CORPUS["card"], CORPUS["email"], CORPUS["github token"]
REPLY = f"Noted {CARD}, {TOKEN} and <EMAIL_ADDRESS_1>."
"""What the model answers: values again, and the placeholder a restoring caller gets the original of."""


@dataclass
class Gateway:
    running: RunningGateway
    keys: dict[str, str]

    def client(self, who: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=self.running.base_url, api_key=self.keys[who], max_retries=0)

    async def call(self, who: str, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.keys[who]}"}
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, self.running.url + path, json=body, headers=headers) as response,
        ):
            return response.status, await response.json()

    async def reveal(self, who: str, record_id: int, reason: str = "case INC-7") -> tuple[int, Any]:
        return await self.call(who, "POST", f"/admin/v1/records/{record_id}/reveal", {"reason": reason})


def write_key(tmp_path: Path, name: str, key: bytes) -> str:
    path = tmp_path / name
    path.write_text(base64.b64encode(key).decode())
    return str(path)


def originals(tmp_path: Path, active: str = "k2025", *, modes: list[str] | None = None) -> dict[str, Any]:
    keys = [{"id": "k2025", "key": {"file": write_key(tmp_path, "k2025", KEY_2025)}}]
    if active == "k2026":
        keys.append({"id": "k2026", "key": {"file": write_key(tmp_path, "k2026", KEY_2026)}})
    return {"encryption": {"active": active, "keys": keys}, **({"modes": modes} if modes else {})}


async def start(
    make_gateway: GatewayFactory, upstream: FakeUpstream, tmp_path: Path, mode: str, sealing: dict[str, Any]
) -> Gateway:
    policy = tmp_path / f"policy-{mode}.yaml"
    policy.write_text(AUDIT_POLICY.replace("MODE", mode))
    upstream.behaviour.reply = REPLY
    running = await make_gateway(
        [{"name": "fake", "base_url": upstream.base_url, "models": ["fake-model"]}],
        policy={"file": str(policy)},
        auth={"api_keys": {"enabled": True}},
        audit={"originals": sealing},
    )
    store = ApiKeyStore(f"sqlite:///{tmp_path / 'audit.db'}")
    try:
        keys = {g: store.create(owner=f"{g}-{mode}", groups=[g], expires_at=None)[1] for g in ("support", "audit")}
    finally:
        store.close()
    return Gateway(running, keys)


@pytest.fixture
async def full(make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path) -> Gateway:
    return await start(make_gateway, fake_upstream, tmp_path, "full", originals(tmp_path))


async def support_records(gateway: Gateway) -> list[dict[str, Any]]:
    """The support caller's records, oldest first."""
    return sorted((r for r in await gateway.running.records() if r["rule"] == "support-restore"), key=lambda r: r["id"])


async def test_when_full_records_keep_originals_then_an_auditor_reads_what_was_sent_and_answered(
    full: Gateway,
) -> None:
    support = full.client("support")
    whole = await ask(support, f"mail {EMAIL}")
    streamed = await ask(support, f"mail {EMAIL} again", stream=True)
    await support.close()
    records = await support_records(full)

    assert EMAIL in whole and EMAIL in streamed  # restored for the caller
    assert [r["originals_sha256"] is not None for r in records] == [True, True]
    status, first = await full.reveal("audit", records[0]["id"])
    status_stream, second = await full.reveal("audit", records[1]["id"])
    assert (status, status_stream) == (200, 200)
    assert first["kek_id"] == "k2025" and first["request_id"] == records[0]["request_id"]
    assert f"mail {EMAIL}" in first["request"]  # as the caller sent it: before masking
    assert "<EMAIL_ADDRESS_1>" in first["answer"] and CARD in first["answer"]  # as the upstream returned it
    assert f"mail {EMAIL} again" in second["request"]
    assert second["answer"] == '{"content":"' + REPLY + '"}'  # the stream, assembled
    assert first["truncated"] is False


async def test_when_an_auditor_reveals_then_the_reveal_is_recorded_with_the_reason_redacted(full: Gateway) -> None:
    support = full.client("support")
    await ask(support, f"mail {EMAIL}")
    await support.close()
    (record,) = await support_records(full)

    await full.reveal("audit", record["id"], reason=f"complaint from {EMAIL}")
    status, listed = await full.call("audit", "GET", f"/admin/v1/records/{record['id']}/reveals")

    assert status == 200
    (reveal,) = listed["data"]
    assert reveal["record_id"] == record["id"] and reveal["subject"] == "audit-full"
    assert EMAIL not in reveal["reason"] and "[EMAIL_ADDRESS]" in reveal["reason"]


async def test_when_someone_without_the_auditor_role_reveals_then_it_is_403_and_nothing_is_recorded(
    full: Gateway,
) -> None:
    support = full.client("support")
    await ask(support, f"mail {EMAIL}")
    await support.close()
    (record,) = await support_records(full)

    status, refused = await full.reveal("support", record["id"])
    listing, _ = await full.call("support", "GET", f"/admin/v1/records/{record['id']}/reveals")
    _, reveals = await full.call("audit", "GET", f"/admin/v1/records/{record['id']}/reveals")

    assert (status, refused["error"]["code"], listing) == (403, "auditor_role_required", 403)
    assert EMAIL not in str(refused)
    assert reveals["data"] == []


async def test_when_the_reason_is_missing_or_the_record_unknown_then_it_says_what_to_do(full: Gateway) -> None:
    support = full.client("support")
    await ask(support, f"mail {EMAIL}")
    await support.close()
    (record,) = await support_records(full)

    no_reason = await full.call("audit", "POST", f"/admin/v1/records/{record['id']}/reveal", {"reason": "  "})
    too_long = await full.reveal("audit", record["id"], reason="x" * 501)
    unknown = await full.reveal("audit", record["id"] + 1000)
    not_a_number = await full.reveal("audit", "abc")  # type: ignore[arg-type]

    assert (no_reason[0], no_reason[1]["error"]["code"]) == (400, "reason_required")
    assert (too_long[0], too_long[1]["error"]["code"]) == (400, "reason_too_long")
    assert (unknown[0], unknown[1]["error"]["code"]) == (404, "record_not_found")
    assert (not_a_number[0], not_a_number[1]["error"]["code"]) == (404, "record_not_found")


@pytest.mark.parametrize("mode", ["masked", "metadata"])
async def test_when_the_record_mode_is_not_one_that_keeps_originals_then_none_are_kept(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path, mode: str
) -> None:
    gateway = await start(make_gateway, fake_upstream, tmp_path, mode, originals(tmp_path))
    support = gateway.client("support")
    await ask(support, f"mail {EMAIL}")
    await ask(support, f"mail {EMAIL}", stream=True)
    await support.close()
    records = await support_records(gateway)

    assert len(records) == 2 and all(r["originals_sha256"] is None for r in records)
    status, body = await gateway.reveal("audit", records[0]["id"])
    assert (status, body["error"]["code"]) == (404, "no_originals")


async def test_when_masked_is_listed_among_the_modes_then_masked_records_keep_originals(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    gateway = await start(
        make_gateway, fake_upstream, tmp_path, "masked", originals(tmp_path, modes=["full", "masked"])
    )
    support = gateway.client("support")
    await ask(support, f"mail {EMAIL}")
    await support.close()
    (record,) = await support_records(gateway)

    status, body = await gateway.reveal("audit", record["id"])
    assert status == 200 and EMAIL in body["request"]


async def test_when_the_active_key_rotates_then_old_records_still_open_and_new_ones_use_the_new_key(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    before = await start(make_gateway, fake_upstream, tmp_path, "full", originals(tmp_path, "k2025"))
    support = before.client("support")
    await ask(support, f"mail {EMAIL}")
    await support.close()
    (old,) = await support_records(before)
    await before.running.server.close()  # the gateway restarts with a new active key, the old one retired

    after = await start(make_gateway, fake_upstream, tmp_path, "full", originals(tmp_path, "k2026"))
    support = after.client("support")
    await ask(support, f"mail {EMAIL} later")
    await support.close()
    old_record, new_record = await support_records(after)

    assert old_record["id"] == old["id"]
    opened_old = await after.reveal("audit", old_record["id"])
    opened_new = await after.reveal("audit", new_record["id"])
    assert (opened_old[0], opened_old[1]["kek_id"]) == (200, "k2025")
    assert (opened_new[0], opened_new[1]["kek_id"]) == (200, "k2026")
    assert f"mail {EMAIL}" in opened_old[1]["request"] and f"{EMAIL} later" in opened_new[1]["request"]


async def test_when_the_corpus_is_sent_with_originals_on_then_no_value_is_in_the_file_logs_metrics_or_headers(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gateway = await start(make_gateway, fake_upstream, tmp_path, "full", originals(tmp_path))
    security = await _security_client(gateway, tmp_path)
    everything = ", ".join(CORPUS.values())
    headers: list[str] = []
    for stream in (False, True):
        raw = security.with_raw_response.chat.completions
        response = await raw.create(
            model="fake-model", messages=[{"role": "user", "content": everything}], stream=stream
        )
        headers.append(str(dict(response.headers)))
        parsed = response.parse()
        if isinstance(parsed, openai.AsyncStream):
            async for _ in parsed:
                pass
    await security.close()
    records = [r for r in await gateway.running.records() if r["originals_sha256"] is not None]
    revealed = [await gateway.reveal("audit", r["id"]) for r in records]
    async with aiohttp.ClientSession() as session, session.get(gateway.running.url + "/metrics") as scraped:
        metrics = await scraped.text()
    gateway.running.audit.engine.dispose()  # every write in the file before its bytes are read

    assert len(records) == 2
    assert all(everything in body["request"] for _, body in revealed)  # the originals were kept...
    stored = sqlite_bytes(tmp_path)
    logged = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    for name, value in CORPUS.items():  # ...and only sealed
        assert value.encode() not in stored, f"{name} in the database file"
        assert value not in logged, f"{name} in the logs"
        assert value not in metrics, f"{name} in the metrics"
        assert all(value not in h for h in headers), f"{name} in the headers"
        assert value not in str(records), f"{name} in a record"


async def _security_client(gateway: Gateway, tmp_path: Path) -> openai.AsyncOpenAI:
    """A caller cleared for every value: the corpus reaches the model, and comes back, in clear."""
    store = ApiKeyStore(f"sqlite:///{tmp_path / 'audit.db'}")
    try:
        key = store.create(owner="security-bot", groups=["security"], expires_at=None)[1]
    finally:
        store.close()
    return openai.AsyncOpenAI(base_url=gateway.running.base_url, api_key=key, max_retries=0)

"""What a caller puts where an id, a model name or a label goes never reaches a log, an audit row or an error raw;
nor does any value of a sensitive corpus sent in a request or returned in an answer, whatever the record mode.

Values are sent as the request id, the model name and the declared label (header and ``metadata``); the log
lines (as the JSON formatter writes them), the audit rows, the SQLite file's bytes and the answers are searched.
The corpus goes through every path a record can come from (allowed in clear, masked, restored for the caller,
blocked, held for approval and released, whole and streamed) under each record mode, and the SQLite file's bytes
and the logs are searched for every value.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import openai
import pytest

from clearance.app import APPROVALS
from clearance.approvals.lifecycle import approve
from clearance.auth.keys import ApiKeyStore
from clearance.models import Identity
from clearance.observability.logging import JsonFormatter
from clearance.proxy.exchange import UNKNOWN_LABEL, UNKNOWN_MODEL
from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway

VALUES = {
    "card": "4111111111111111",
    "ssn": "536-22-8714",
    "email": "jane.roe@corp-mail.io",
    "token": "ghp_R4nd0mT0k3nV4lu3abcdefghijklmnop12",
    "aws": "AKIAZ7QW3ERTY5UIOP2L",
}


async def send(gw: RunningGateway, *, model: str, label_header: str | None, label_meta: str | None, rid: str) -> bytes:
    body: dict[str, object] = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    if label_meta is not None:
        body["metadata"] = {"classification": label_meta}
    headers = {"X-Request-ID": rid}
    if label_header is not None:
        headers["X-Data-Classification"] = label_header
    async with aiohttp.ClientSession() as s, s.post(gw.base_url + "/chat/completions", json=body, headers=headers) as r:
        return await r.read() + str(dict(r.headers)).encode()


def sqlite_bytes(tmp_path: Path) -> bytes:
    # the database, its WAL, and the audit spool beside it (audit.db.spool/)
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file() and p.relative_to(tmp_path).parts[0][:8] == "audit.db")
    return b"".join(p.read_bytes() for p in files)


@pytest.mark.parametrize("kind", sorted(VALUES))
async def test_values_in_ids_models_and_labels_are_never_recorded_raw(
    make_gateway: GatewayFactory,
    fake_upstream: FakeUpstream,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    kind: str,
) -> None:
    value = VALUES[kind]
    gw = await make_gateway([{"name": "fake", "base_url": fake_upstream.base_url, "models": ["fake-model"]}])
    caplog.set_level(logging.DEBUG)
    answers = [
        await send(gw, model=value, label_header=None, label_meta=None, rid=value),  # unknown model: 404
        await send(gw, model="fake-model", label_header=value, label_meta=None, rid=value),  # unknown label
        await send(gw, model="fake-model", label_header=None, label_meta=value, rid=value),
        await send(gw, model="fake-model", label_header="public", label_meta=None, rid=value),  # known label
    ]
    records = await gw.records()
    gw.audit.engine.dispose()  # let every write reach the file before its bytes are read

    assert len(records) == 4
    for answer in answers:
        assert value.encode() not in answer
    logged = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert value not in logged
    assert value not in str(records)
    assert value.encode() not in sqlite_bytes(tmp_path)
    assert value not in fake_upstream.all_text_received()
    assert all(value not in str(r.headers) for r in fake_upstream.received)

    by_status = sorted((r["status"], r["model"], r["declared_label"]) for r in records)
    assert (404, UNKNOWN_MODEL, None) in by_status
    assert [r["declared_label"] for r in records if r["status"] == 403] == [UNKNOWN_LABEL, UNKNOWN_LABEL]
    assert [r["declared_label"] for r in records if r["status"] == 200] == ["public"]


async def test_the_unknown_model_error_lists_the_real_models_without_echoing(gateway: RunningGateway) -> None:
    chat = {"model": "secret-project-x", "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession() as s, s.post(gateway.base_url + "/chat/completions", json=chat) as r:
        body = await r.json()
    assert r.status == 404
    assert body["error"]["code"] == "model_not_found"
    assert "fake-model" in body["error"]["message"]
    assert "secret-project-x" not in str(body)


CORPUS = {
    "card": "4111 1111 1111 1111",
    "card digits": "4111111111111111",
    "ssn": "536-22-8714",
    "email": "jane.roe@corp-mail.io",
    "github token": "ghp_4hT9kLm2QxZ7vB1nW8cR5yE3uJ6pA0sD2fG4",
    "aws key": "AKIAZ7QW3ERTY5UIOP2L",
}
CARD, SSN, EMAIL, TOKEN = CORPUS["card"], CORPUS["ssn"], CORPUS["email"], CORPUS["github token"]
ECHO = f"You said {CARD}, {EMAIL}, {TOKEN}, {CORPUS['aws key']} and <EMAIL_ADDRESS_1>."
"""The model's answer: every value again (a model repeats what it read), and the placeholder a restoring caller
gets the original of."""

POLICY = """
version: 1
clearances:
  - groups: [engineering]
    level: confidential
  - groups: [security]
    level: restricted
    roles: [user, approver]
  - groups: [support]
    level: internal
models:
  - name: fake-model
    max_level: restricted
rules:
  - id: ssn-refused
    when: {groups: [engineering], types: [US_SSN]}
    action: block
    message: no SSNs, please
    record: MODE
  - id: secrets-need-approval
    when: {groups: [engineering], types: [GITHUB_TOKEN, AWS_ACCESS_KEY]}
    action: require_approval
    approval: {approvers: [security]}
    record: MODE
  - id: support-restore
    when: {groups: [support]}
    action: mask
    mask:
      operators: {EMAIL_ADDRESS: placeholder}
      restore: true
    record: MODE
defaults:
  record: MODE
"""
"""Security is cleared for everything (values go to the model in clear), engineering gets cards masked, SSNs
refused and secrets held for approval, support gets e-mails as placeholders restored in the answer."""


@dataclass
class Callers:
    security: openai.AsyncOpenAI
    engineering: openai.AsyncOpenAI
    support: openai.AsyncOpenAI


async def ask(client: openai.AsyncOpenAI, content: str, *, stream: bool = False, **headers: str) -> str:
    """The answer's text as the caller got it (a stream's joined); an error's body when refused."""
    messages: list[openai.types.chat.ChatCompletionMessageParam] = [{"role": "user", "content": content}]
    try:
        if stream:
            chunks = await client.chat.completions.create(
                model="fake-model", messages=messages, stream=True, extra_headers=headers
            )
            return "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])
        answer = await client.chat.completions.create(model="fake-model", messages=messages, extra_headers=headers)
        return answer.choices[0].message.content or ""
    except openai.APIStatusError as error:
        return json.dumps(error.body)


@pytest.fixture
async def recorded_gateway(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[RunningGateway, Callers]]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.replace("MODE", request.param))
    fake_upstream.behaviour.reply = ECHO
    gw = await make_gateway(
        [{"name": "fake", "base_url": fake_upstream.base_url, "models": ["fake-model"]}],
        policy={"file": str(policy)},
        auth={"api_keys": {"enabled": True}},
    )
    keys = ApiKeyStore(f"sqlite:///{tmp_path / 'audit.db'}")
    clients = {}
    for group in ("security", "engineering", "support"):
        _, key = keys.create(owner=f"{group}-bot", groups=[group], expires_at=None)
        clients[group] = openai.AsyncOpenAI(base_url=gw.base_url, api_key=key, max_retries=0)
    yield gw, Callers(**clients)
    for client in clients.values():
        await client.close()
    keys.close()


@pytest.mark.parametrize("recorded_gateway", ["full", "masked", "metadata"], indirect=True)
async def test_when_the_corpus_goes_through_every_path_then_no_value_is_recorded_or_logged_raw(
    recorded_gateway: tuple[RunningGateway, Callers], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    gw, callers = recorded_gateway
    approvals = gw.app[APPROVALS]  # the approvals share the gateway's database: its bytes are searched too
    caplog.set_level(logging.DEBUG)
    everything = f"card {CARD}, ssn {SSN}, mail {EMAIL}, token {TOKEN}, key {CORPUS['aws key']}"

    allowed = await ask(callers.security, everything)  # all of it reaches the model in clear, and comes back
    allowed_stream = await ask(callers.security, everything, stream=True)
    events = await callers.security.responses.create(model="fake-model", input=everything, stream=True)
    allowed_events = "".join([e.delta async for e in events if e.type == "response.output_text.delta"])
    async with aiohttp.ClientSession() as session:  # an Ollama client, streamed line by line
        ollama_body = {"model": "fake-model", "messages": [{"role": "user", "content": everything}]}
        headers = {"Authorization": f"Bearer {callers.security.api_key}"}
        async with session.post(gw.url + "/api/chat", json=ollama_body, headers=headers) as r:
            lines = (await r.read()).decode().splitlines()
    allowed_lines = "".join(json.loads(line)["message"]["content"] for line in lines)
    assert len(lines) > 2  # streamed
    masked = await ask(callers.engineering, f"card {CARD}, mail {EMAIL}")
    masked_stream = await ask(callers.engineering, f"card {CARD}, mail {EMAIL}", stream=True)
    restored = await ask(callers.support, f"mail {EMAIL}")
    restored_stream = await ask(callers.support, f"mail {EMAIL}", stream=True)
    blocked = await ask(callers.engineering, f"ssn {SSN}, card {CARD}")
    held = json.loads(await ask(callers.engineering, f"token {TOKEN}, mail {EMAIL}"))
    approval_id = held["approval"]["id"]
    security = Identity("security-bot", groups=("security",))
    approvals.apply(approval_id, lambda a: approve(a, security, "fine", now=a.created_at + 1))
    released = await ask(callers.engineering, f"token {TOKEN}, mail {EMAIL}", **{"X-Clearance-Approval": approval_id})

    assert TOKEN in allowed and TOKEN in allowed_stream and CARD in allowed  # the caller was cleared for it
    assert TOKEN in allowed_events and TOKEN in allowed_lines  # split over events: joined
    assert "XXXX XXXX XXXX 1111" in masked and "XXXX XXXX XXXX 1111" in masked_stream
    assert EMAIL in restored and EMAIL in restored_stream  # restored for the caller, so never to be recorded
    assert "ssn-refused" in blocked or "no SSNs" in blocked
    assert TOKEN in released
    records = await gw.records()
    gw.audit.engine.dispose()  # let every write reach the file before its bytes are read
    assert sorted(r["decision"] for r in records) == sorted(
        ["allow"] * 4 + ["mask"] * 4 + ["block", "require_approval", "require_approval"]
    )
    stored = sqlite_bytes(tmp_path)
    logged = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    for name, value in CORPUS.items():
        assert value.encode() not in stored, f"{name} in the database file"
        assert value not in logged, f"{name} in the logs"
        assert value not in str(records), f"{name} in a record"
    texts = [r for r in records if r["request_text"] is not None]
    answers = [r for r in records if r["response_text"] is not None]
    if mode_of(records) == "metadata":
        assert texts == [] and answers == []
    else:  # every forwarded request and every answer kept, redacted
        assert len(texts) == 9 and len(answers) == 9
        assert all(r["ttft_ms"] is not None for r in records if r["stream"])
        restoring = [r for r in answers if r["rule"] == "support-restore"]
        assert len(restoring) == 2  # whole and streamed: each keeps the answer before restoring, never the original
        assert all("<EMAIL_ADDRESS_1>" in r["response_text"] for r in restoring)


def mode_of(records: list[dict[str, object]]) -> object:
    (mode,) = {r["record_mode"] for r in records}
    return mode

"""What a caller puts where an id, a model name or a label goes never reaches a log, an audit row or an error raw.

Values are sent as the request id, the model name and the declared label (header and ``metadata``); the log
lines (as the JSON formatter writes them), the audit rows, the SQLite file's bytes and the answers are searched.
"""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest

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
    return b"".join(p.read_bytes() for p in tmp_path.glob("audit.db*"))


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

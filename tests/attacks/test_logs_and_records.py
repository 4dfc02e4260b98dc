"""Logs and the audit record: no raw value in a log line, an audit row, the audit database's bytes, an error body.

``X-Request-ID`` is accepted only in a strict id format that cannot carry a value (otherwise a new id is made);
unknown model names and declared labels are recorded only masked (or as a fixed marker). Each attack gets a fresh
gateway and database, so the database file's bytes belong to that attack alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.attacks.conftest import (
    ATTACK_LOOP,
    OLLAMA_MODEL,
    OPENAI_MODEL,
    Attack,
    AttackGateway,
    ScriptedUpstream,
    start_gateway,
)
from tests.attacks.harness import AWS_KEY_ID, GITHUB_TOKEN, IBAN_GB, SSN, VISA, Secret, assert_no_leak, expect

pytestmark = ATTACK_LOOP

CARD = VISA.raw
TOKEN = GITHUB_TOKEN.raw


@pytest_asyncio.fixture(loop_scope="module")
async def gw(upstream: ScriptedUpstream, tmp_path: Any) -> AsyncIterator[AttackGateway]:
    """A fresh gateway and audit database per attack (overrides the module-wide one)."""
    gateway = await start_gateway(upstream, tmp_path / "audit.db")
    yield gateway
    await gateway.server.close()


async def check_everywhere(attack: Attack, secret: Secret) -> None:
    await attack.check([secret], allowed_5xx=(502,))
    assert_no_leak([await attack.database_bytes()], [secret])


def chat(model: str = OPENAI_MODEL, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hello"}], **extra}


REQUEST_IDS: dict[str, tuple[str, Secret]] = {
    "card": (CARD, VISA),
    "prefixed_card": (f"req-{CARD}", VISA),
    "dashed_card": ("4111-1111-1111-1111", VISA),
    "dotted_card": ("4111.1111.1111.1111", VISA),
    "ssn": (SSN.raw, SSN),
    "ssn_with_colons": ("ssn:536:22:8174", SSN),
    "github_token": (TOKEN, GITHUB_TOKEN),
    "aws_key": (AWS_KEY_ID.raw, AWS_KEY_ID),
    "iban": (IBAN_GB.raw, IBAN_GB),
}


@pytest.mark.parametrize("case", REQUEST_IDS, ids=list(REQUEST_IDS))
async def test_request_id_cannot_carry_a_value(attack: Attack, case: str) -> None:
    given, secret = REQUEST_IDS[case]
    reply = await attack.post("/v1/chat/completions", chat(), headers={"X-Request-ID": given})
    await check_everywhere(attack, secret)
    expect(reply.headers.get("X-Request-ID") != given, "a request id holding a value was accepted")


UNKNOWN_MODELS: dict[str, tuple[str, Secret]] = {
    "card": (CARD, VISA),
    "prefixed_card": (f"gpt-{CARD}", VISA),
    "spaced_card": ("4111 1111 1111 1111", VISA),
    "ssn": (f"model {SSN.raw}", SSN),
    "github_token": (TOKEN, GITHUB_TOKEN),
    "aws_key": (AWS_KEY_ID.raw, AWS_KEY_ID),
}


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/api/chat"])
@pytest.mark.parametrize("case", UNKNOWN_MODELS, ids=list(UNKNOWN_MODELS))
async def test_unknown_model_name_is_never_recorded_raw(attack: Attack, case: str, path: str) -> None:
    model, secret = UNKNOWN_MODELS[case]
    await attack.post(path, {**chat(model), "stream": False})
    await check_everywhere(attack, secret)


LABELS: dict[str, tuple[str, str, Secret]] = {
    "header_card": ("header", CARD, VISA),
    "header_token": ("header", TOKEN, GITHUB_TOKEN),
    "header_ssn": ("header", SSN.raw, SSN),
    "metadata_card": ("metadata", CARD, VISA),
    "metadata_token": ("metadata", TOKEN, GITHUB_TOKEN),
    "metadata_iban": ("metadata", IBAN_GB.raw, IBAN_GB),
}


@pytest.mark.parametrize("case", LABELS, ids=list(LABELS))
async def test_declared_label_is_never_recorded_raw(attack: Attack, case: str) -> None:
    where, label, secret = LABELS[case]
    if where == "header":
        await attack.post("/v1/chat/completions", chat(), headers={"X-Data-Classification": label})
    else:
        await attack.post("/v1/chat/completions", chat(metadata={"classification": label}))
    await check_everywhere(attack, secret)


async def test_declared_label_on_ollama_endpoint(attack: Attack) -> None:
    await attack.post("/api/chat", {**chat(OLLAMA_MODEL), "stream": False}, headers={"X-Data-Classification": CARD})
    await check_everywhere(attack, VISA)


BAD_REQUESTS: dict[str, tuple[str, bytes, Secret]] = {
    "truncated_json": (
        "/v1/chat/completions",
        b'{"model": "fake-model", "messages": [{"role": "user", "content": "' + CARD.encode(),
        VISA,
    ),
    "invalid_json_near_value": (
        "/v1/chat/completions",
        b'{"model": "fake-model", "x": ' + CARD.encode() + b"zz}",
        VISA,
    ),
    "wrong_type_next_to_value": (
        "/v1/chat/completions",
        b'{"model": "fake-model", "messages": [{"role": 5, "content": "' + CARD.encode() + b'"}]}',
        VISA,
    ),
    "value_as_messages": (
        "/v1/chat/completions",
        b'{"model": "fake-model", "messages": "' + TOKEN.encode() + b'"}',
        GITHUB_TOKEN,
    ),
    "value_as_stream_flag": (
        "/v1/chat/completions",
        b'{"model": "fake-model", "messages": [], "stream": "' + CARD.encode() + b'"}',
        VISA,
    ),
    "value_as_classification_type": (
        "/v1/chat/completions",
        b'{"model": "fake-model", "messages": [{"role": "user", "content": "x"}], "metadata": {"classification": ['
        + CARD.encode()
        + b"]}}",
        VISA,
    ),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
async def test_refused_request_leaves_no_value_behind(attack: Attack, case: str) -> None:
    path, raw, secret = BAD_REQUESTS[case]
    await attack.post(path, None, raw=raw)
    await check_everywhere(attack, secret)


@pytest.mark.parametrize(
    ("path", "secret"),
    [(f"/v1/cards/{CARD}", VISA), (f"/v1/keys/{TOKEN}", GITHUB_TOKEN), (f"/api/{SSN.raw}", SSN)],
    ids=["card_in_unknown_path", "token_in_unknown_path", "ssn_in_unknown_path"],
)
async def test_unknown_path_is_never_echoed(attack: Attack, path: str, secret: Secret) -> None:
    await attack.post(path, chat())
    await check_everywhere(attack, secret)


async def test_query_string_value_is_never_logged(attack: Attack) -> None:
    await attack.post(f"/v1/chat/completions?api_key={TOKEN}", chat())
    await check_everywhere(attack, GITHUB_TOKEN)


async def test_caller_credentials_never_logged(attack: Attack) -> None:
    await attack.post("/v1/chat/completions", chat(), headers={"Authorization": f"Bearer {TOKEN}"})
    await check_everywhere(attack, GITHUB_TOKEN)


async def test_masked_request_leaves_no_value_in_the_database(attack: Attack) -> None:
    body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": f"card {CARD} and {TOKEN}"}]}
    await attack.post("/v1/chat/completions", body)
    await check_everywhere(attack, VISA)
    assert_no_leak([await attack.database_bytes()], [GITHUB_TOKEN])

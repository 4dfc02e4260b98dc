"""Upstream errors are answers too: status kept, body and headers inspected and masked, never relayed raw."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import aiohttp
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.detect import Scanner
from clearance.mask.masker import Masker
from clearance.models import Finding, MaskPlan
from clearance.proxy.json_codec import JsonCodec, dumps
from clearance.proxy.upstream_errors import Unreadable, mask_error_body, relayed_headers
from tests.conftest import GatewayFactory, RunningGateway
from tests.proxy.scripted import Answer, ScriptedUpstream, scripted_upstream

CARD = "4111 1111 1111 1111"
SSN = "536-22-8714"
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
RAW_FORMS = (CARD, CARD.replace(" ", ""), SSN, SSN.replace("-", ""))


def json_error(message: str) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": "invalid_request_error", "param": None}})


async def gateway_for(make_gateway: GatewayFactory, upstream: ScriptedUpstream) -> RunningGateway:
    return await make_gateway([{"name": "up", "base_url": upstream.base_url, "models": ["m"]}])


async def call(gw: RunningGateway, body: dict[str, Any] = CHAT) -> tuple[int, bytes, dict[str, str]]:
    async with (
        aiohttp.ClientSession(auto_decompress=False) as s,
        s.post(gw.base_url + "/chat/completions", json=body) as r,
    ):
        return r.status, await r.read(), dict(r.headers)


def assert_no_raw_value(*texts: str | bytes) -> None:
    for text in texts:
        blob = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        for raw in RAW_FORMS:
            assert raw not in blob


ERROR_BODIES = [
    pytest.param(json_error(f"your card {CARD} was declined"), {"Content-Type": "application/json"}, id="json"),
    pytest.param(f"upstream trace: ssn {SSN} card {CARD}".encode(), {"Content-Type": "text/plain"}, id="text-plain"),
    pytest.param(
        f"<html><body>card {CARD}</body></html>".encode(), {"Content-Type": "text/html; charset=utf-8"}, id="html"
    ),
    pytest.param(json_error(f"card {CARD}"), {"Content-Type": "text/plain"}, id="json-labelled-as-text"),
    pytest.param(
        b'{"error": {"message": "card \\u0034111 1111 1111 1111"}}', {"Content-Type": "application/json"}, id="escaped"
    ),
    pytest.param(
        gzip.compress(json_error(f"card {CARD}")),
        {"Content-Type": "application/json", "Content-Encoding": "gzip"},
        id="gzip-json",
    ),
    pytest.param(
        zlib.compress(f"card {CARD}".encode()),
        {"Content-Type": "text/plain", "Content-Encoding": "deflate"},
        id="deflate-text",
    ),
    pytest.param(
        f"card {CARD}".encode("utf-16"), {"Content-Type": "text/plain; charset=utf-16"}, id="declared-charset"
    ),
]


@pytest.mark.parametrize(("body", "headers"), ERROR_BODIES)
@pytest.mark.parametrize("status", [400, 429, 500, 503])
async def test_error_bodies_are_masked_and_the_status_is_kept(
    make_gateway: GatewayFactory, body: bytes, headers: dict[str, str], status: int
) -> None:
    async with scripted_upstream(Answer(status, body, headers)) as up:
        gw = await gateway_for(make_gateway, up)
        got, out, out_headers = await call(gw)
    assert got == status
    assert "Content-Encoding" not in out_headers  # what the caller gets is exactly what was inspected
    assert_no_raw_value(out)
    assert b"1111" in out or b"CREDIT_CARD" in out or b"***" in out  # the text is there, masked
    [record] = await gw.records()
    assert (record["status"], record["error_code"]) == (status, f"upstream_http_{status}")


async def test_a_json_error_keeps_its_shape_and_an_openai_client_reads_it(make_gateway: GatewayFactory) -> None:
    async with scripted_upstream(Answer(400, json_error(f"card {CARD} declined"))) as up:
        gw = await gateway_for(make_gateway, up)
        got, out, headers = await call(gw)
    assert got == 400
    assert headers["Content-Type"].startswith("application/json")
    error = orjson.loads(out)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("card ") and error["message"].endswith(" declined")
    assert CARD not in error["message"]


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        pytest.param(b"\x1f\x8b\x08garbage", {"Content-Encoding": "gzip"}, id="broken-gzip"),
        pytest.param(f"card {CARD}".encode(), {"Content-Encoding": "compress"}, id="unknown-encoding"),
        pytest.param(f"card {CARD}".encode(), {"Content-Encoding": "x-custom"}, id="unknown-encoding-plain-bytes"),
        pytest.param(b"card \xff\xfe 4111", {"Content-Type": "text/plain"}, id="not-utf8"),
        pytest.param(b"x", {"Content-Type": "text/plain; charset=no-such-charset"}, id="unknown-charset"),
        pytest.param(b'{"a":' * 100 + b"1" + b"}" * 100, {"Content-Type": "application/json"}, id="too-deep"),
    ],
)
async def test_an_error_body_that_cannot_be_read_is_replaced_status_kept(
    make_gateway: GatewayFactory, body: bytes, headers: dict[str, str]
) -> None:
    async with scripted_upstream(Answer(502, body, headers)) as up:
        gw = await gateway_for(make_gateway, up)
        got, out, _ = await call(gw)
    assert got == 502
    error = orjson.loads(out)["error"]
    assert error["code"] == "upstream_http_502"
    assert "could not inspect" in error["message"]
    assert_no_raw_value(out)
    assert b"card" not in out
    [record] = await gw.records()
    assert record["status"] == 502


async def test_only_actionable_headers_are_relayed_and_they_are_masked(make_gateway: GatewayFactory) -> None:
    headers = {
        "Content-Type": "application/json",
        "Retry-After": "30",
        "X-RateLimit-Remaining-Requests": "0",
        "X-RateLimit-Reset": f"ask {CARD}",
        "X-Debug-User": f"ssn {SSN}",
        "Set-Cookie": "session=upstream",
    }
    async with scripted_upstream(Answer(429, json_error("slow down"), headers)) as up:
        gw = await gateway_for(make_gateway, up)
        got, _, out = await call(gw)
    assert got == 429
    assert out["Retry-After"] == "30"
    assert out["X-RateLimit-Remaining-Requests"] == "0"
    assert out["X-RateLimit-Reset"].startswith("ask ")
    assert_no_raw_value(*out.values())
    assert "X-Debug-User" not in out
    assert "Set-Cookie" not in out


def _card_masker() -> Masker:
    def scan(text: str) -> list[Finding]:
        start = text.find(CARD)
        return [] if start < 0 else [Finding(start, start + len(CARD), "CREDIT_CARD")]

    return Masker(MaskPlan(operators={"CREDIT_CARD": "redact"}), scan, b"k" * 32)


def test_a_json_body_is_masked_field_by_field() -> None:
    body, content_type = mask_error_body(json_error(f"card {CARD}"), None, _card_masker(), JsonCodec(64))
    assert content_type == "application/json"
    assert CARD not in orjson.loads(body)["error"]["message"]


@pytest.mark.parametrize("field", ["type", "id", "object"])
def test_a_value_glued_into_an_error_id_or_type_is_masked(field: str) -> None:
    raw = orjson.dumps({"error": {"message": "no", field: "pay_4111111111111111"}})
    masker = Masker(MaskPlan(operators={"CREDIT_CARD": "redact"}), Scanner.from_config(None).scan, b"k" * 32)
    body, _content_type = mask_error_body(raw, None, masker, JsonCodec(64))
    assert b"4111111111111111" not in body
    assert orjson.loads(body)["error"]["message"] == "no"


def test_a_text_body_is_masked_as_one_text() -> None:
    body, content_type = mask_error_body(f"oops {CARD}!".encode(), "utf-8", _card_masker(), JsonCodec(64))
    assert content_type.startswith("text/plain")
    assert body.startswith(b"oops ") and CARD.encode() not in body


def test_undecodable_bodies_are_unreadable() -> None:
    with pytest.raises(Unreadable):
        mask_error_body(b"\xff\xfe\xfd", "utf-8", _card_masker(), JsonCodec(64))
    with pytest.raises(Unreadable):
        mask_error_body(b"[" * 10 + b"]" * 10, None, _card_masker(), JsonCodec(5))


def test_relayed_header_values_are_masked() -> None:
    out = relayed_headers({"Retry-After": CARD, "X-Other": CARD}, _card_masker())
    assert set(out) == {"Retry-After"}
    assert CARD not in out["Retry-After"]


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"message": "declined", "type": CARD}},
        {"error": {"message": "declined", "code": SSN, "id": CARD}},
        {"error": {CARD: "declined"}},
    ],
    ids=["structural-type", "code-and-id", "key"],
)
async def test_values_where_the_field_walk_does_not_reach_are_not_shown(
    make_gateway: GatewayFactory, body: dict[str, Any]
) -> None:
    async with scripted_upstream(Answer(400, orjson.dumps(body))) as up:
        gw = await gateway_for(make_gateway, up)
        got, out, _ = await call(gw)
    assert got == 400
    assert_no_raw_value(out)


# -- a bounded fuzz: values anywhere in error bodies of any shape --------------------------------------------

_SCANNER = Scanner.from_config()
_VALUES = st.sampled_from([CARD, CARD.replace(" ", ""), SSN])
_filler = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
_strings = st.one_of(_filler, st.builds(lambda a, v, b: f"{a} {v} {b}", _filler, _VALUES, _filler))
_keys = st.one_of(st.sampled_from(["error", "message", "type", "code", "id", "param", "detail"]), _strings)
_bodies = st.recursive(
    st.none() | st.integers() | _strings,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_keys, children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_bodies, st.booleans())
def test_fuzz_no_raw_value_leaves_in_any_error_body(body: Any, as_text: bool) -> None:
    masker = Masker(MaskPlan(operators={"CREDIT_CARD": "redact", "US_SSN": "redact"}), _SCANNER.scan, b"k" * 32)
    raw = str(body).encode() if as_text else dumps(body)
    try:
        out, _ = mask_error_body(raw, None, masker, JsonCodec(64))
    except Unreadable:
        return  # replaced by the generic error: nothing of the body is shown
    assert_no_raw_value(out)

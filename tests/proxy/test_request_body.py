"""Request bodies: decoded and inspected when compressed, refused with a precise 4xx when they cannot be."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from typing import Any

import aiohttp
import orjson
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from clearance.exceptions import PayloadTooLarge, UnsupportedEncoding
from clearance.proxy.request_body import EncodingMismatch, content_coding, decode_body
from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway
from tests.proxy.scripted import Answer, scripted_upstream

CARD = "4111 1111 1111 1111"
CHAT = {"model": "fake-model", "messages": [{"role": "user", "content": f"pay with {CARD}"}]}


def raw_deflate(data: bytes) -> bytes:
    encoder = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return encoder.compress(data) + encoder.flush()


def headers(*encodings: str) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict([("Content-Encoding", e) for e in encodings]))


# -- unit: the decoder --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", raw_deflate),
    ],
)
def test_bodies_in_a_decoded_encoding_come_out_whole(coding: str, encode: Any) -> None:
    body = b'{"text": "hello"}' * 100
    assert decode_body(encode(body), coding, 1 << 20) == body


def test_several_gzip_members_are_one_body() -> None:
    assert decode_body(gzip.compress(b'{"a":') + gzip.compress(b"1}"), "gzip", 100) == b'{"a":1}'


@pytest.mark.parametrize(
    ("coding", "raw"),
    [
        ("gzip", b'{"model": "m"}'),  # plain bytes labelled gzip
        ("gzip", gzip.compress(b'{"a": 1}')[:-6]),  # truncated
        ("gzip", gzip.compress(b'{"a": 1}') + b"trailing"),  # bytes after the stream
        ("deflate", b'{"model": "m"}'),
        ("deflate", zlib.compress(b'{"a": 1}')[:-3]),
        ("deflate", zlib.compress(b'{"a": 1}') + b"x"),
    ],
)
def test_bytes_that_do_not_match_their_encoding_are_a_mismatch(coding: str, raw: bytes) -> None:
    with pytest.raises(EncodingMismatch):
        decode_body(raw, coding, 1 << 20)


def test_a_compression_bomb_stops_at_the_limit() -> None:
    bomb = gzip.compress(b"0" * 10_000_000)
    with pytest.raises(PayloadTooLarge):
        decode_body(bomb, "gzip", 1_000_000)


@pytest.mark.parametrize("value", ["br", "zstd", "compress", "gzip, gzip", "gzip, deflate", "identity, br", "GZIP2"])
def test_encodings_not_decoded_are_unsupported(value: str) -> None:
    with pytest.raises(UnsupportedEncoding):
        content_coding(headers(value))


def test_two_content_encoding_headers_are_unsupported() -> None:
    with pytest.raises(UnsupportedEncoding):
        content_coding(headers("gzip", "gzip"))


@pytest.mark.parametrize(
    ("value", "coding"), [("gzip", "gzip"), ("GZip", "gzip"), ("identity", None), (" deflate ", "deflate")]
)
def test_content_coding_reads_one_known_coding(value: str, coding: str | None) -> None:
    assert content_coding(headers(value)) == coding
    assert content_coding(headers()) is None


# -- through the gateway --------------------------------------------------------------------------------------


async def post_raw(gw: RunningGateway, body: bytes, extra: dict[str, str]) -> tuple[int, Any]:
    # a fresh connection each time: after a refused body the gateway may close it
    connector = aiohttp.TCPConnector(force_close=True)
    async with (
        aiohttp.ClientSession(connector=connector) as s,
        s.post(
            gw.base_url + "/chat/completions",
            data=body,
            headers={"Content-Type": "application/json", **extra},
            compress=None,
        ) as r,
    ):
        return r.status, await r.json(content_type=None)


@pytest.mark.parametrize(
    ("coding", "encode"), [("gzip", gzip.compress), ("deflate", zlib.compress), ("deflate", raw_deflate)]
)
async def test_compressed_requests_are_decoded_and_inspected(
    gateway: RunningGateway, fake_upstream: FakeUpstream, coding: str, encode: Any
) -> None:
    status, _ = await post_raw(gateway, encode(orjson.dumps(CHAT)), {"Content-Encoding": coding})
    assert status == 200
    sent = fake_upstream.all_text_received()
    assert "pay with" in sent
    assert CARD not in sent and CARD.replace(" ", "") not in sent


@pytest.mark.parametrize(
    ("encoding", "body", "status", "code"),
    [
        ("gzip", orjson.dumps(CHAT), 400, "invalid_encoding"),
        ("gzip", gzip.compress(orjson.dumps(CHAT))[:-5], 400, "invalid_encoding"),
        ("deflate", orjson.dumps(CHAT), 400, "invalid_encoding"),
        ("br", orjson.dumps(CHAT), 415, "unsupported_encoding"),
        ("zstd", orjson.dumps(CHAT), 415, "unsupported_encoding"),
        ("compress", orjson.dumps(CHAT), 415, "unsupported_encoding"),
        ("x-made-up", orjson.dumps(CHAT), 415, "unsupported_encoding"),
        ("gzip, gzip", gzip.compress(gzip.compress(orjson.dumps(CHAT))), 415, "unsupported_encoding"),
    ],
)
async def test_bodies_that_cannot_be_decoded_are_refused_and_recorded(
    gateway: RunningGateway, fake_upstream: FakeUpstream, encoding: str, body: bytes, status: int, code: str
) -> None:
    got, answer = await post_raw(gateway, body, {"Content-Encoding": encoding})
    assert got == status
    assert answer["error"]["code"] == code
    assert fake_upstream.received == []  # never forwarded unread
    [record] = await gateway.records()
    assert (record["status"], record["error_code"]) == (status, code)


async def test_a_decoded_body_larger_than_the_limit_is_413(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream
) -> None:
    gw = await make_gateway(
        [{"name": "fake", "base_url": fake_upstream.base_url, "models": ["fake-model"]}],
        server={"max_body_bytes": 10_000},
    )
    big = {**CHAT, "messages": [{"role": "user", "content": "x" * 100_000}]}
    status, answer = await post_raw(gw, gzip.compress(orjson.dumps(big)), {"Content-Encoding": "gzip"})
    assert (status, answer["error"]["code"]) == (413, "payload_too_large")
    assert fake_upstream.received == []


@pytest.mark.parametrize("depth", [65, 1000, 1100, 100_000])
async def test_json_nested_deeper_than_the_limit_is_400(
    gateway: RunningGateway, fake_upstream: FakeUpstream, depth: int
) -> None:
    deep = (
        b'{"model": "fake-model", "messages": [{"role": "user", "content": "hi"}], "x": '
        + (b"[" * depth + b"]" * depth)
        + b"}"
    )
    status, answer = await post_raw(gateway, deep, {})
    assert (status, answer["error"]["code"]) == (400, "json_too_deep")
    assert "server.max_json_depth" in answer["error"]["message"]
    assert fake_upstream.received == []
    [record] = await gateway.records()
    assert record["status"] == 400


async def test_the_depth_limit_is_configurable(make_gateway: GatewayFactory, fake_upstream: FakeUpstream) -> None:
    gw = await make_gateway(
        [{"name": "fake", "base_url": fake_upstream.base_url, "models": ["fake-model"]}], server={"max_json_depth": 4}
    )
    ok = {**CHAT, "metadata": {"a": {"b": 1}}}
    assert (await post_raw(gw, orjson.dumps(ok), {}))[0] == 200
    deep = {**CHAT, "metadata": {"a": {"b": {"c": {"d": 1}}}}}
    assert (await post_raw(gw, orjson.dumps(deep), {}))[0] == 400


async def test_a_request_with_a_huge_integer_is_forwarded_exactly(make_gateway: GatewayFactory) -> None:
    answer = Answer(200, orjson.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}]}))
    async with scripted_upstream(answer) as up:
        gw = await make_gateway([{"name": "up", "base_url": up.base_url, "models": ["fake-model"]}])
        raw = orjson.dumps(CHAT)[:-1] + b', "user_big": 123456789012345678901234567890}'
        status, _ = await post_raw(gw, raw, {})
    assert status == 200
    assert b'"user_big":123456789012345678901234567890' in up.received_raw[0]


async def test_a_body_slower_than_body_timeout_gets_408_and_the_connection_closes(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream
) -> None:
    gw = await make_gateway(
        [{"name": "fake", "base_url": fake_upstream.base_url, "models": ["fake-model"]}], server={"body_timeout": 0.3}
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.server.port)
    writer.write(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n{"
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=10)  # read() returns once the server closes
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408")
    assert b'"request_timeout"' in answer
    assert fake_upstream.received == []
    [record] = await gw.records()
    assert (record["status"], record["error_code"]) == (408, "request_timeout")

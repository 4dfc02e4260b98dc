"""The syslog sink against real receivers on loopback, started by the test: RFC 5424 messages over UDP (one per
datagram) and over TCP (octet-counting framing), a receiver that comes back after a failure, and the datagram
bound."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from clearance.audit.sink_config import SyslogSinkConfig
from clearance.audit.sink_syslog import SyslogSink, octet_counted, syslog_message
from clearance.audit.sinks import SinkFailed, SinkRecord
from clearance.audit.store import _row
from tests.audit.conftest import trail_record

HEADER = re.compile(
    rb"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<proc>\S+) (?P<msgid>\S+) (?P<sd>-) (?P<msg>.*)$",
    re.DOTALL,
)


def records(count: int, text: str | None = None) -> list[SinkRecord]:
    out = []
    for i in range(1, count + 1):
        row: dict[str, Any] = {**_row(trail_record(i)), "id": i}
        if text is not None:
            row["request_text"] = text
        out.append(SinkRecord.from_row(row))
    return out


def parse(message: bytes) -> tuple[dict[str, bytes], dict[str, Any]]:
    match = HEADER.match(message)
    assert match is not None, message[:80]
    return match.groupdict(), json.loads(match["msg"])


@dataclass
class UdpReceiver(asyncio.DatagramProtocol):
    datagrams: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.datagrams.put_nowait(data)


@pytest.fixture
async def udp_receiver() -> AsyncIterator[tuple[UdpReceiver, int]]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(UdpReceiver, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    try:
        yield protocol, port
    finally:
        transport.close()


@dataclass
class TcpReceiver:
    """Reads octet-counted frames (``LEN SP MSG``) off every connection."""

    messages: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    connections: int = 0
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                length = await reader.readuntil(b" ")
                self.messages.put_nowait(await reader.readexactly(int(length[:-1])))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def tcp_receiver() -> AsyncIterator[TcpReceiver]:
    receiver = TcpReceiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        await server.wait_closed()


async def take(queue: asyncio.Queue[bytes], count: int) -> list[bytes]:
    async with asyncio.timeout(5):
        return [await queue.get() for _ in range(count)]


async def test_when_records_go_over_udp_then_each_is_one_rfc5424_datagram(
    udp_receiver: tuple[UdpReceiver, int],
) -> None:
    receiver, port = udp_receiver
    sink = SyslogSink(SyslogSinkConfig(port=port, hostname="gw-1", facility=13, severity=6), "syslog")
    await sink.start()
    try:
        await sink.send(records(3))
        datagrams = await take(receiver.datagrams, 3)
    finally:
        await sink.close()
    parsed = [parse(d) for d in datagrams]
    header, body = parsed[0]
    assert header["pri"] == b"110"  # 13 * 8 + 6
    assert header["ts"] == b"2023-11-14T22:13:21.250000Z"
    assert (header["host"], header["app"], header["msgid"]) == (b"gw-1", b"clearance", b"audit")
    assert header["proc"].isdigit()
    assert [b["id"] for _, b in parsed] == [1, 2, 3]
    assert body["request_id"] == "req-1" and body["findings"] == {"EMAIL_ADDRESS": 1}


async def test_when_records_go_over_tcp_then_they_are_octet_counted_and_may_hold_newlines(
    tcp_receiver: TcpReceiver,
) -> None:
    text = "line one\nline two é"  # a newline would split a newline-framed message; é is escaped to ASCII
    sink = SyslogSink(SyslogSinkConfig(port=tcp_receiver.port, transport="tcp"), "syslog")
    await sink.start()
    try:
        await sink.send(records(2, text))
        await sink.send(records(1, text))
        messages = await take(tcp_receiver.messages, 3)
    finally:
        await sink.close()
    assert all(m.isascii() for m in messages)
    assert [parse(m)[1]["request_text"] for m in messages] == [text] * 3
    assert [parse(m)[1]["id"] for m in messages] == [1, 2, 1]
    assert tcp_receiver.connections == 1  # one connection kept for every batch


async def test_when_the_tcp_receiver_is_down_then_the_send_fails_and_a_later_one_reconnects(
    tcp_receiver: TcpReceiver, unused_tcp_port: int
) -> None:
    down = SyslogSink(SyslogSinkConfig(port=unused_tcp_port, transport="tcp"), "down")
    with pytest.raises(SinkFailed, match="down: ConnectionRefusedError"):
        await down.send(records(1))
    await down.close()

    sink = SyslogSink(SyslogSinkConfig(port=tcp_receiver.port, transport="tcp"), "syslog")
    try:
        await sink.send(records(1))
        await take(tcp_receiver.messages, 1)
        await sink.close()  # as after a failure: the next send opens a new connection
        await sink.send(records(1))
        await take(tcp_receiver.messages, 1)
    finally:
        await sink.close()
    assert tcp_receiver.connections == 2


async def test_when_a_message_exceeds_the_datagram_bound_then_the_batch_fails_without_retry(
    udp_receiver: tuple[UdpReceiver, int],
) -> None:
    _, port = udp_receiver
    sink = SyslogSink(SyslogSinkConfig(port=port, max_datagram=480), "syslog")
    with pytest.raises(SinkFailed, match="use transport: tcp") as failure:
        await sink.send(records(1, "x" * 600))
    assert failure.value.retry is False
    await sink.close()


def test_when_a_message_is_framed_for_tcp_then_the_count_is_its_length_in_octets() -> None:
    message = syslog_message(records(1)[0], facility=1, severity=3, hostname="h", app_name="a", procid="7")
    assert message.startswith(b"<11>1 ")
    assert octet_counted(message) == str(len(message)).encode() + b" " + message

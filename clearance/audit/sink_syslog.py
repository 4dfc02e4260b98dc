"""The syslog sink: each record as one RFC 5424 message, over UDP (RFC 5426) or TCP (RFC 6587 octet counting).

A message is ``<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG``: PRI from the configured facility and
severity, the record's time (UTC, microseconds), MSGID ``audit``, no structured data, and MSG the record's row as
compact JSON written in ASCII (non-ASCII characters escaped), so MSG needs no byte-order mark and any receiver
reads it. Over TCP each message is framed as ``LENGTH SP MESSAGE`` (octet counting: a record's text may hold
newlines, which the older newline framing would split); the connection is opened at the first send and opened
again after a failure. Over UDP each message is one datagram; one larger than ``max_datagram`` is refused (the
batch fails without retrying: use TCP for records that keep their text).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import Sequence

from clearance.audit.sink_config import SyslogSinkConfig
from clearance.audit.sinks import SinkFailed, SinkRecord

NILVALUE = "-"


def syslog_message(
    record: SinkRecord, *, facility: int, severity: int, hostname: str, app_name: str, procid: str
) -> bytes:
    """The RFC 5424 message (without transport framing) that carries ``record``."""
    timestamp = record.fields.get("created_at") or NILVALUE
    body = json.dumps(record.fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    header = f"<{facility * 8 + severity}>1 {timestamp} {hostname} {app_name} {procid} audit {NILVALUE}"
    return f"{header} {body}".encode("ascii")


def octet_counted(message: bytes) -> bytes:
    """``message`` framed for TCP by octet counting (RFC 6587, section 3.4.1)."""
    return str(len(message)).encode("ascii") + b" " + message


class SyslogSink:
    """Sends records to a syslog receiver at ``config.host``:``config.port``."""

    batch_size = 100
    flush_interval = 0.0

    def __init__(self, config: SyslogSinkConfig, name: str) -> None:
        self.name = name
        self.timeout = config.timeout
        self._config = config
        self._hostname = config.hostname or (socket.gethostname().split(".")[0] or NILVALUE)[:255]
        self._procid = str(os.getpid())
        self._writer: asyncio.StreamWriter | None = None
        self._udp: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        """Nothing to open yet: a receiver that is down when the gateway starts is retried like any failure."""

    def _messages(self, records: Sequence[SinkRecord]) -> list[bytes]:
        c = self._config
        return [
            syslog_message(
                r, facility=c.facility, severity=c.severity, hostname=self._hostname, app_name=c.app_name,
                procid=self._procid,
            )
            for r in records
        ]  # fmt: skip

    async def send(self, records: Sequence[SinkRecord]) -> None:
        messages = self._messages(records)
        try:
            if self._config.transport == "tcp":
                await self._send_tcp(messages)
            else:
                await self._send_udp(messages)
        except OSError as exc:
            await self.close()
            raise SinkFailed(f"{self.name}: {type(exc).__name__}") from None

    async def _send_tcp(self, messages: list[bytes]) -> None:
        if self._writer is None or self._writer.is_closing():
            _, self._writer = await asyncio.open_connection(self._config.host, self._config.port)
        self._writer.write(b"".join(octet_counted(m) for m in messages))
        await self._writer.drain()

    async def _send_udp(self, messages: list[bytes]) -> None:
        too_large = sum(1 for m in messages if len(m) > self._config.max_datagram)
        if too_large:
            raise SinkFailed(
                f"{self.name}: {too_large} message(s) larger than max_datagram ({self._config.max_datagram} bytes); "
                "use transport: tcp for records that keep their text",
                retry=False,
            )
        if self._udp is None or self._udp.is_closing():
            loop = asyncio.get_running_loop()
            self._udp, _ = await loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, remote_addr=(self._config.host, self._config.port)
            )
        for message in messages:
            self._udp.sendto(message)

    async def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        udp, self._udp = self._udp, None
        if udp is not None:
            udp.close()

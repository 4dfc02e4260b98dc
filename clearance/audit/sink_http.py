"""The HTTP sink: records POSTed in batches, in one of four body shapes.

- ``generic``: ``{"records": [row, ...]}`` (``application/json``), for a receiver of one's own or a relay.
- ``splunk_hec``: Splunk's HTTP Event Collector (``/services/collector/event``): one ``{"time", "host",
  "source", "sourcetype", "event"}`` object per record, concatenated, the record's row as ``event``.
- ``elasticsearch_bulk``: the bulk API (``/_bulk``), NDJSON: a ``create`` action per record with the record's
  request id as the document id, so a batch sent again after a lost answer creates no duplicates (an item that
  already exists answers 409, counted as delivered); any other item error fails the batch.
- ``loki``: the push API (``/loki/api/v1/push``): one stream with the configured labels, a ``[nanoseconds, line]``
  value per record, the line the record's row as JSON.

Header values are read from their secrets when the sink starts and never logged. A 2xx answer delivers the batch;
408, 429, 5xx and network errors are retried; any other status fails it without retrying.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiohttp
import orjson

from clearance.audit.sink_config import HttpSinkConfig
from clearance.audit.sinks import SinkFailed, SinkRecord

RETRIED_STATUSES = frozenset({408, 429})


def _nanoseconds(record: SinkRecord) -> int:
    created = record.fields.get("created_at")
    if not isinstance(created, str):
        return 0
    moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000


def http_body(config: HttpSinkConfig, records: Sequence[SinkRecord]) -> tuple[bytes, str]:
    """The body and content type that carry ``records`` in ``config.format``."""
    if config.format == "splunk_hec":
        events = [
            {
                "time": round(_nanoseconds(r) / 1e9, 6),
                "host": r.fields.get("instance") or "clearance",
                "source": "clearance",
                "sourcetype": config.sourcetype,
                "event": r.fields,
            }
            for r in records
        ]
        return b"\n".join(orjson.dumps(e) for e in events), "application/json"
    if config.format == "elasticsearch_bulk":
        lines: list[bytes] = []
        for r in records:
            action = {"create": {"_index": config.index, "_id": str(r.fields.get("request_id", r.fields["id"]))}}
            lines += [orjson.dumps(action), orjson.dumps({"@timestamp": r.fields.get("created_at"), **r.fields})]
        return b"\n".join(lines) + b"\n", "application/x-ndjson"
    if config.format == "loki":
        values = [[str(_nanoseconds(r)), r.line.decode()] for r in records]
        return orjson.dumps({"streams": [{"stream": dict(config.labels), "values": values}]}), "application/json"
    return orjson.dumps({"records": [r.fields for r in records]}), "application/json"


def bulk_errors(answer: bytes) -> int:
    """How many items of an Elasticsearch bulk answer failed for a reason other than already existing (409)."""
    try:
        document: Any = json.loads(answer)
    except ValueError:
        return 0
    if not isinstance(document, dict) or not document.get("errors"):
        return 0
    failed = 0
    for item in document.get("items") or []:
        result: Any = next(iter(item.values()), None) if isinstance(item, dict) else None
        status = result.get("status", 0) if isinstance(result, dict) else 0
        if status != 409 and not (isinstance(status, int) and 200 <= status < 300):
            failed += 1
    return failed


class HttpSink:
    """POSTs batches of records to ``config.url``."""

    def __init__(self, config: HttpSinkConfig, name: str) -> None:
        self.name = name
        self.timeout = config.timeout
        self.batch_size = config.batch_size
        self.flush_interval = config.flush_interval
        self._config = config
        self._headers: dict[str, str] = {}
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Read the header secrets (one that is missing stops the gateway's start) and open the client session."""
        self._headers = {name: secret.header_value() for name, secret in self._config.headers.items()}
        self._session = aiohttp.ClientSession()

    async def send(self, records: Sequence[SinkRecord]) -> None:
        assert self._session is not None, "start the sink first"
        body, content_type = http_body(self._config, records)
        headers = {**self._headers, "Content-Type": content_type}
        try:
            async with self._session.post(str(self._config.url), data=body, headers=headers) as answer:
                status = answer.status
                text = await answer.read()
        except aiohttp.ClientError as exc:
            raise SinkFailed(f"{self.name}: {type(exc).__name__}") from None
        if status in RETRIED_STATUSES or status >= 500:
            raise SinkFailed(f"{self.name}: answered {status}")
        if not 200 <= status < 300:
            raise SinkFailed(f"{self.name}: answered {status}; the receiver refuses the batch", retry=False)
        if self._config.format == "elasticsearch_bulk" and (failed := bulk_errors(text)):
            raise SinkFailed(f"{self.name}: {failed} bulk item(s) refused")

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

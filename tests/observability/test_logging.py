"""JSON log lines: fields from ``extra``, and never a traceback (its locals or messages could hold payload text)."""

from __future__ import annotations

import logging
import sys

import orjson

from clearance.observability.logging import JsonFormatter


def test_extra_fields_become_json_keys() -> None:
    record = logging.makeLogRecord({"name": "clearance.access", "msg": "request", "levelno": 20, "levelname": "INFO"})
    record.request_id = "abc"
    record.status = 200
    line = orjson.loads(JsonFormatter().format(record))
    assert line["msg"] == "request"
    assert (line["request_id"], line["status"], line["level"]) == ("abc", 200, "info")


def test_exceptions_are_logged_by_type_only() -> None:
    try:
        raise ValueError("secret 4111 1111 1111 1111 in a message")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    text = JsonFormatter().format(record)
    assert orjson.loads(text)["exc_type"] == "ValueError"
    assert "4111" not in text
    assert "Traceback" not in text

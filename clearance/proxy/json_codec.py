"""Parsing and serialising the JSON that crosses the gateway, with bounds that hold before anything walks it.

``JsonCodec.loads`` either returns a value no deeper than ``max_depth`` or raises ``JsonRefused`` saying why
(``too_deep`` or ``malformed``); the caller maps that to its own error (400 for a request, 502 for an answer).
Every walk of a payload (extraction, masking, translation) is recursive, so the depth is checked here, once,
without recursion, before any of them runs; or, for a request body, by the first walk itself
(``clearance.payload.extract.walk_body``), which the request side needs anyway (``bounded=False``).

Numbers: orjson reads an integer beyond 64 bits as a float, silently changing it; a payload with a run of 19 or
more digits (the shortest integer that can overflow) is read with the standard library instead, which keeps
integers exact. ``dumps`` falls back the same way, since orjson cannot write such an integer.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Literal

import orjson

_LONG_DIGIT_RUN = re.compile(rb"[0-9]{19}")

Reason = Literal["too_deep", "malformed"]


class JsonRefused(ValueError):
    """The bytes are not JSON the gateway accepts. ``reason`` is a stable code; ``detail`` never holds payload."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason: Reason = reason
        self.detail = detail


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("a number is out of range")
    return value


def _exact_loads(raw: bytes) -> Any:
    """The standard library's parser: slower, but exact for integers of any size. It accepts what orjson
    accepts, no more: UTF-8 only (no BOM, no UTF-16), no NaN or Infinity, and no lone surrogate escape
    (``"\\ud800"``), which is not Unicode text: no detector could read it, and no encoder could forward it."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant, parse_float=_finite_float)
        # the round trip is the check: a string or key holding a lone surrogate cannot be encoded as UTF-8
        json.dumps(value, ensure_ascii=False, check_circular=False).encode("utf-8")
    except RecursionError:
        raise JsonRefused("too_deep", "nested too deeply") from None
    except (ValueError, UnicodeError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 JSON, or a number out of range"
        raise JsonRefused("malformed", detail) from None
    return value


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests objects/arrays more than ``limit`` levels deep. Iterative: safe at any depth."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JsonCodec:
    """JSON in and out under one depth limit (``server.max_json_depth``)."""

    __slots__ = ("max_depth",)

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth

    def loads(self, raw: bytes, *, bounded: bool = True) -> Any:
        """Parse ``raw``; raise ``JsonRefused`` if it is not JSON or (``bounded``) nests deeper than ``max_depth``.
        Unbounded, the caller checks the depth before anything recursive reads the value."""
        if _LONG_DIGIT_RUN.search(raw):
            value = _exact_loads(raw)
        else:
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                if "depth" in exc.msg or "recursion" in exc.msg:
                    raise JsonRefused("too_deep", "nested too deeply") from None
                raise JsonRefused("malformed", f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None
        if bounded and depth_exceeds(value, self.max_depth):
            raise JsonRefused("too_deep", f"nested deeper than {self.max_depth} levels")
        return value


def dumps(value: Any) -> bytes:
    """Compact JSON; integers beyond 64 bits (read exactly by ``JsonCodec``) are written exactly too."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()

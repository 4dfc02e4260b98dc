"""JSON in and out: a depth bound that holds before any walk, exact integers of any size."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.proxy.json_codec import JsonCodec, JsonRefused, depth_exceeds, dumps


def nested(depth: int, kind: str = "list") -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("kind", ["list", "object"])
@pytest.mark.parametrize("depth", [65, 200, 1023, 1100, 50_000])
def test_deeper_than_the_limit_is_refused_as_too_deep(kind: str, depth: int) -> None:
    with pytest.raises(JsonRefused) as refused:
        JsonCodec(64).loads(nested(depth, kind))
    assert refused.value.reason == "too_deep"


@pytest.mark.parametrize("kind", ["list", "object"])
def test_at_the_limit_is_accepted(kind: str) -> None:
    assert JsonCodec(64).loads(nested(64, kind))


def test_deep_nesting_with_a_long_digit_run_takes_the_exact_path_and_is_still_bounded() -> None:
    raw = b"[" * 5000 + b"1234567890123456789012" + b"]" * 5000
    with pytest.raises(JsonRefused) as refused:
        JsonCodec(64).loads(raw)
    assert refused.value.reason == "too_deep"


@pytest.mark.parametrize(
    "number",
    [
        "123456789012345678901234567890",
        "-9223372036854775809",
        "18446744073709551616",
        "99999999999999999999999999999999999999999999",
    ],
)
def test_integers_beyond_64_bits_are_read_and_written_exactly(number: str) -> None:
    raw = f'{{"id": "x", "usage": {{"total_tokens": {number}}}}}'.encode()
    value = JsonCodec(64).loads(raw)
    assert value["usage"]["total_tokens"] == int(number)
    assert dumps(value) == raw.replace(b" ", b"")


@pytest.mark.parametrize("raw", [b"", b"{", b"NaN", b"[Infinity]", b"[1e400]", b"\xff", b"{'a': 1}", b"[1,]"])
def test_what_is_not_json_is_malformed(raw: bytes) -> None:
    with pytest.raises(JsonRefused) as refused:
        JsonCodec(64).loads(raw)
    assert refused.value.reason == "malformed"


def test_the_depth_check_does_not_recurse() -> None:
    value: Any = []
    for _ in range(100_000):
        value = [value]
    assert depth_exceeds(value, 64)
    assert not depth_exceeds([[1], {"a": [2]}], 3)
    assert depth_exceeds([[1], {"a": [2]}], 2)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(json_values)
def test_round_trip_matches_the_standard_library(value: Any) -> None:
    raw = json.dumps(value).encode()
    parsed = JsonCodec(512).loads(raw)
    assert parsed == json.loads(raw)
    assert json.loads(dumps(parsed)) == parsed


@pytest.mark.parametrize(
    "raw",
    [
        b'["\\ud800", 1234567890123456789012]',
        b'{"\\udfff": 1234567890123456789012}',
        b"\xef\xbb\xbf[1234567890123456789012]",
        "[1234567890123456789012]".encode("utf-16"),
    ],
)
def test_the_exact_parser_accepts_no_more_than_orjson(raw: bytes) -> None:
    with pytest.raises(JsonRefused) as refused:
        JsonCodec(64).loads(raw)
    assert refused.value.reason == "malformed"

"""Every value in a payload is found and rewritten, whatever its shape; only proven structure and real images pass
as they are."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from clearance.payload.extract import (
    Leaf,
    NestedTooDeeply,
    has_token_ids,
    is_structural,
    iter_texts,
    number_digits,
    rewrite_paths,
    rewrite_texts,
    summarise_images,
    walk,
    walk_body,
)
from clearance.proxy.json_codec import depth_exceeds
from tests.image_samples import data_url, png

IMAGE = data_url("png", png())
CHAT: dict[str, Any] = {
    "model": "m",
    "messages": [
        {"role": "system", "content": "sys"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "part"},
                {"type": "image_url", "image_url": {"url": IMAGE}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        },
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"q": "arg", "id": "x y"}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "result"},
    ],
    "future_field": {"nested": ["new"]},
}


def upper_marked(text: str) -> str:
    """A stand-in masker: rewrites only what holds the word ``secret`` (and returns the rest unchanged)."""
    return text.upper() if "secret" in text else text


def upper_if(value: str) -> Callable[[str], str]:
    """A stand-in masker that rewrites only ``value``."""
    return lambda text: text.upper() if text == value else text


def test_every_text_is_found_and_structure_and_real_images_are_skipped() -> None:
    # a string that only starts like a data URL (not a real PNG) is text; a tool's name is structure; inside
    # tool arguments every string is the caller's data, an "id" too
    assert list(iter_texts(CHAT)) == ["sys", "part", "data:image/png;base64,AAAA", "arg", "x y", "result", "new"]


def test_the_walk_says_what_each_leaf_is() -> None:
    body = {
        "model": "m",
        "secret_key": {"role": "nobody", "type": "text", "n": 4111111111111111, "small": 12},
        "prompt": [[], [1, 2]],
    }
    assert list(walk(body)) == [
        Leaf("key", ("model",), "model"),
        Leaf("key", ("secret_key",), "secret_key"),
        Leaf("key", ("secret_key", "role"), "role"),
        Leaf("malformed", ("secret_key", "role"), "nobody", "role"),
        Leaf("key", ("secret_key", "type"), "type"),
        Leaf("structure", ("secret_key", "type"), "text", "type"),
        Leaf("key", ("secret_key", "n"), "n"),
        Leaf("number", ("secret_key", "n"), "4111111111111111", "n"),
        Leaf("key", ("secret_key", "small"), "small"),
        Leaf("key", ("prompt",), "prompt"),
        Leaf("token_ids", ("prompt",), "", "prompt"),
    ]


def test_rewrite_keeps_tool_arguments_valid_json_and_leaves_what_fn_leaves() -> None:
    body = {**CHAT, "messages": [*CHAT["messages"], {"role": "user", "content": "a secret"}]}
    out = rewrite_texts(body, upper_marked)
    assert out["messages"][-1] == {"role": "user", "content": "A SECRET"}
    args = out["messages"][2]["tool_calls"][0]["function"]["arguments"]
    assert orjson.loads(args) == {"q": "arg", "id": "x y"}
    assert out["messages"][1]["content"][1]["image_url"]["url"] == IMAGE
    assert body["messages"][-1]["content"] == "a secret"  # the input is not mutated


def test_rewrite_hands_fn_structure_keys_and_long_numbers() -> None:
    out = rewrite_texts(
        {"id": "secret_1", "role": "secret", "secret": {"a": 1}, "n": 4111111111111111, "m": 99}, lambda t: f"<{t}>"
    )
    assert out == {
        "<id>": "<secret_1>",
        "<role>": "<secret>",
        "<secret>": {"<a>": 1},
        "<n>": "<4111111111111111>",
        "<m>": 99,
    }


def test_a_masked_key_that_collides_keeps_both_members() -> None:
    out = rewrite_texts({"secret a": 1, "secret b": 2, "[MASKED]": 3}, lambda t: "[MASKED]" if "secret" in t else t)
    assert out == {"[MASKED]": 1, "[MASKED]_2": 2, "[MASKED]_3": 3}


def test_arguments_that_are_not_json_are_text() -> None:
    assert rewrite_texts({"arguments": "not json secret"}, upper_marked) == {"arguments": "NOT JSON SECRET"}


def test_dropped_keys_become_null() -> None:
    assert rewrite_texts(
        {"logprobs": {"content": [{"token": "secret"}]}, "t": "secret"}, upper_marked, frozenset({"logprobs"})
    ) == {"logprobs": None, "t": "SECRET"}


# -- structure: each structural key, a good value and bad ones ------------------------------------------------

STRUCTURE = [
    ("role", "assistant", ["Assistant", "user ", "4111 1111 1111 1111", "admin"]),
    ("type", "input_text", ["Input Text", "text\n", "4111-1111-1111-1111", "x" * 65]),
    ("object", "chat.completion.chunk", ["Chat Completion", "a b"]),
    ("id", "chatcmpl-9aB_x.1:2", ["call 1", "-leading", "x" * 129, "a/b", "jane@example.com"]),
    ("tool_call_id", "call_abc123", ["call abc", "c\u00e91"]),
    ("call_id", "fc_123", ["a,b", " "]),
    ("item_id", "msg_1", ["msg 1"]),
    ("previous_response_id", "resp_1", ["resp 1"]),
    ("system_fingerprint", "fp_44709d6fcb", ["fp 4"]),
    ("name", "get_weather", ["get weather", "f(x)", "x" * 129]),
    ("tool_name", "search.web", ["search web"]),
    ("finish_reason", "tool_calls", ["Stop", "stop!", "4111111111111111"]),
    ("done_reason", "stop", ["sto p"]),
    ("status", "in_progress", ["in progress", "x" * 33]),
    ("encoding_format", "base64", ["Base64"]),
    ("service_tier", "default", ["de-fault"]),
    ("created_at", "2024-07-01T10:00:00.123456789Z", ["yesterday", "2024-07-01 10:00:00", "4111111111111111"]),
    ("model", "llama3.1:8b-instruct/q4_K_M", ["my model", "-x"]),
]


@pytest.mark.parametrize(("key", "good", "bad"), STRUCTURE)
def test_structure_passes_only_in_its_strict_format(key: str, good: str, bad: list[str]) -> None:
    assert is_structural(key, good)
    for value in bad:
        assert not is_structural(key, value), (key, value)
        # a nested one is malformed in a request, text in an answer
        assert [leaf.kind for leaf in walk({"x": {key: value}}) if leaf.kind != "key"] == ["malformed"]
        assert rewrite_texts({key: value}, upper_if(value)) == {key: value.upper()}
    assert is_structural(key, "")  # holds nothing
    assert not is_structural(key, 1)
    assert not is_structural("content", good)


def test_caller_data_has_no_structural_keys() -> None:
    body = {"metadata": {"name": "Jane Doe", "id": "a b"}, "arguments": '{"role": "x y"}'}
    assert [leaf.kind for leaf in walk(body) if leaf.kind != "key"] == ["text", "text", "text"]


# -- numbers --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "digits"),
    [
        (4111111111111111, "4111111111111111"),
        (-4111111111111111, "4111111111111111"),
        (4111111111111111.0, "4111111111111111"),
        (123456789, "123456789"),
        (1234, "1234"),
        (999, None),
        (12.5, None),
        (True, None),
        (1e25, None),
    ],
)
def test_long_integral_numbers_are_inspected_as_digits(value: Any, digits: str | None) -> None:
    leaves = [leaf for leaf in walk({"v": value}) if leaf.kind == "number"]
    assert leaves == ([Leaf("number", ("v",), digits, "v")] if digits else [])


# -- token ids ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [[1, 2, 3], [[1, 2], [3]], [[], [1, 2]], [[[1]]], [[], [[], [7]]], [1.0], [["a"], [1]]]
)
def test_token_ids_in_any_nesting_are_recognised(value: Any) -> None:
    assert has_token_ids(value)


@pytest.mark.parametrize("value", [["a"], "a", [], [[]], [[], []], [{"n": 1}], [True], None, 1])
def test_text_and_empty_lists_are_not_token_ids(value: Any) -> None:
    assert not has_token_ids(value)


@pytest.mark.parametrize(
    "field",
    ["prompt", "input", "context", "prompt_token_ids", "token_ids", "input_ids", "content", "text", "tokens", "Ids"],
)
def test_token_id_fields_are_found_at_any_depth_but_not_in_caller_data(field: str) -> None:
    assert [leaf.path for leaf in walk({"a": [{field: [[], [5]]}]}) if leaf.kind == "token_ids"] == [("a", 0, field)]
    assert [leaf for leaf in walk({"arguments": orjson.dumps({field: [1]}).decode()}) if leaf.kind == "token_ids"] == []


def test_images_in_an_images_list_may_be_bare_base64() -> None:
    bare = IMAGE.split(",", 1)[1]
    assert list(iter_texts({"images": [bare]})) == []
    assert list(iter_texts({"other": [bare]})) == [bare]
    assert re.fullmatch(r"[A-Za-z0-9+/=]+", bare)


@pytest.mark.parametrize("field", ["enum", "dimensions", "stop", "examples"])
def test_numbers_in_fields_that_take_no_token_ids_are_numbers(field: str) -> None:
    assert all(leaf.kind != "token_ids" for leaf in walk({"tools": [{field: [1, 2, 3]}]}))


@pytest.mark.parametrize(
    ("number", "digits"),
    [
        (4111111111111111.5, "4111111111111111 5"),
        (0.4111111111111111, "0 4111111111111111"),
        (-0.4111111111111111, "0 4111111111111111"),
        (4.111111111111111e20, "4111111111111111"),
        (4111111111111111.0, "4111111111111111"),
        (1234.5, "1234 5"),
        (0.7, None),
        (0.95, None),
        (1e-07, None),
        (1e300, None),
    ],
)
def test_a_float_gives_the_digits_it_is_forwarded_with(number: float, digits: str | None) -> None:
    assert number_digits(number) == digits


# -- one walk: the depth checked by it, and a rewrite that reads only what masking can change -----------------

_KEYS = st.sampled_from(["model", "role", "id", "name", "content", "arguments", "metadata", "prompt", "images", "x"])
_SCALARS = st.one_of(
    st.sampled_from(["", "user", "secret", "a secret b", "c1", "x y", "data:image/png;base64,AAAA", IMAGE]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)


def _json_string(value: Any) -> str:
    return orjson.dumps(value).decode()


_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(_KEYS, st.sampled_from(["secret key", "k", ""])), inner, max_size=4),
        st.dictionaries(_KEYS, inner, max_size=3).map(_json_string),  # JSON held in a string (``arguments``)
    ),
    max_leaves=25,
)
_BODIES = st.tuples(
    st.dictionaries(st.one_of(_KEYS, st.just("secret key")), _VALUES, max_size=5), st.sampled_from(["m", "a secret"])
).map(lambda b: {**b[0], "model": b[1]} if "model" in b[0] else b[0])
"""Request bodies; ``model`` a string when present, as validation makes sure before anything is inspected."""


def _numbered() -> Callable[[str], str]:
    """A stand-in masker that changes only what holds ``secret``, numbering the changes in call order (as the
    placeholder vault numbers placeholders): two rewrites agree only if they call it in the same order."""
    seen: list[str] = []

    def fn(text: str) -> str:
        if "secret" not in text and "4" not in text:
            return text
        seen.append(text)
        return f"<{len(seen)}>"

    return fn


@given(_BODIES)
@settings(max_examples=300, deadline=None)
@example({"secret key": [["secret"], {"model": "secret", "arguments": '{"model":null}'}]})  # list items in order
def test_rewriting_at_the_paths_found_is_rewriting_everything(body: dict[str, Any]) -> None:
    walked = walk_body(body)
    probe = _numbered()
    changed = [(leaf.path, leaf.kind == "key") for leaf in walked.leaves if probe(leaf.value) != leaf.value]
    if isinstance(body.get("model"), str) and probe(body["model"]) != body["model"]:
        changed.append((("model",), False))
    assert rewrite_paths(walked, changed, _numbered()) == rewrite_texts(body, _numbered())


def test_rewriting_at_no_path_shares_the_body_and_writes_json_strings_as_rewrite_texts_does() -> None:
    body = {"messages": [{"content": "hi"}], "tools": [{"arguments": '{ "q" : "arg" }'}]}
    out = rewrite_paths(walk_body(body), [], str)
    assert out == rewrite_texts(body, str) == {"messages": [{"content": "hi"}], "tools": [{"arguments": '{"q":"arg"}'}]}
    assert out["messages"] is body["messages"]  # nothing under it changes: not copied


@given(_VALUES, st.integers(min_value=1, max_value=6))
@settings(max_examples=300, deadline=None)
def test_the_walk_refuses_exactly_the_bodies_nested_too_deeply(value: Any, limit: int) -> None:
    body = {"model": value, "x": value}
    try:
        walk_body(body, limit)
    except NestedTooDeeply:
        assert depth_exceeds(body, limit)
    else:
        assert not depth_exceeds(body, limit)


def test_when_images_are_summarised_then_only_real_images_become_markers() -> None:
    body: dict[str, Any] = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is on this card?"},
                    {"type": "image_url", "image_url": {"url": IMAGE}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            },
            {"role": "user", "content": "see", "images": [base64.b64encode(png()).decode(), "not an image"]},
        ]
    }

    summary = summarise_images(body)

    first, second = summary["messages"]
    assert first["content"][0] == {"type": "text", "text": "what is on this card?"}
    assert first["content"][1]["image_url"]["url"] == f"[image: {len(IMAGE):,} characters of base64]"
    # not a proven image: text, left for the masker, never hidden by a marker
    assert first["content"][2]["image_url"]["url"] == "data:image/png;base64,AAAA"
    assert second["images"][0].startswith("[image: ")
    assert second["images"][1] == "not an image"
    assert body["messages"][0]["content"][1]["image_url"]["url"] == IMAGE  # a copy: the body is unchanged

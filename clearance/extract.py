"""Finding every text in a payload, and rewriting them, whatever the payload's shape.

Rather than a list of known fields (which misses the next API's new one), every string anywhere in the JSON is a
text, except the values of a few structural keys (``model``, ``role``, ``type``, ids). Strings that hold JSON —
tool-call ``arguments`` — are parsed, walked, and serialised back, so what is masked inside them stays valid JSON.
Base64 data URLs (inline images) are not text and are left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson

STRUCTURAL_KEYS = frozenset(
    {
        "model",
        "role",
        "type",
        "id",
        "object",
        "tool_call_id",
        "call_id",
        "item_id",
        "finish_reason",
        "done_reason",
        "status",
        "system_fingerprint",
        "encoding_format",
        "created_at",
        "service_tier",
    }
)
JSON_STRING_KEYS = frozenset({"arguments"})


def is_structural(key: str, value: object) -> bool:
    """Whether ``value`` under ``key`` is structure (an enum, an id) that passes without inspection.

    The one test every layer uses (request walk, whole answers, stream events): a string under a structural key
    is structure, anything else is text.
    """
    return key in STRUCTURAL_KEYS and isinstance(value, str)


def _is_data_url(value: str) -> bool:
    return value.startswith("data:") and ";base64," in value[:100]


def _parse_json_string(value: str) -> Any:
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict | list) else None


def iter_texts(node: Any) -> Iterator[str]:
    """Every text in ``node``, depth first, in document order."""
    if isinstance(node, str):
        if node and not _is_data_url(node):
            yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            if is_structural(key, value):
                continue
            if key in JSON_STRING_KEYS and isinstance(value, str):
                parsed = _parse_json_string(value)
                if parsed is not None:
                    yield from iter_texts(parsed)
                    continue
            yield from iter_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from iter_texts(item)


def rewrite_texts(node: Any, fn: Callable[[str], str], drop_keys: frozenset[str] = frozenset()) -> Any:
    """A copy of ``node`` with every text replaced by ``fn(text)``; keys in ``drop_keys`` become null."""
    if isinstance(node, str):
        return fn(node) if node and not _is_data_url(node) else node
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in drop_keys:
                out[key] = None
            elif is_structural(key, value):
                out[key] = value
            elif key in JSON_STRING_KEYS and isinstance(value, str) and (parsed := _parse_json_string(value)):
                out[key] = orjson.dumps(rewrite_texts(parsed, fn, drop_keys)).decode()
            else:
                out[key] = rewrite_texts(value, fn, drop_keys)
        return out
    if isinstance(node, list):
        return [rewrite_texts(item, fn, drop_keys) for item in node]
    return node


def has_token_ids(value: Any) -> bool:
    """Whether a ``prompt``/``input`` is given as token ids (a list of ints, or of lists of ints): unscannable."""
    if not isinstance(value, list) or not value:
        return False
    first = value[0]
    return isinstance(first, int) or (isinstance(first, list) and bool(first) and isinstance(first[0], int))

"""Finding every value in a payload, and rewriting them, whatever the payload's shape.

Rather than a list of known fields (which misses the next API's new one), everything in the JSON is inspected:

- every string is a text, except a *structural* string (``role``, ``type``, ids, tool names, ``finish_reason``…)
  that fullmatches its strict format (``STRUCTURAL_FORMATS``: an enum where the API has one, an id charset and
  length otherwise), and a real inline image (``clearance.payload.images``);
- object keys are inspected too (a key can hold a card as well as a value can);
- JSON numbers of ``NUMBER_DIGITS`` digits or more are inspected as their digits (``number_digits``; for a
  fraction or an exponent form, the digits as forwarded): a card sent as a number is a card;
- token-id inputs (``prompt``/``input``/``context`` given as numbers, in any nesting) cannot be inspected at all.

Strings that hold JSON — tool-call ``arguments`` — are parsed, walked, and serialised back, so what is masked
inside them stays valid JSON; inside them, and inside ``metadata``, everything is caller data: no key there is
structural. ``walk`` says what each leaf of a request is, for the request side to decide (mask, or refuse what
cannot be masked); ``rewrite_texts`` rewrites every inspected leaf, for both sides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from clearance.payload.images import is_base64_image, is_inline_image

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}")
_WORD = re.compile(r"[a-z][a-z0-9_.]{0,63}")
_STATE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,255}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})")
_ROLE = re.compile(r"system|user|assistant|tool|developer|function")

STRUCTURAL_FORMATS: dict[str, re.Pattern[str]] = {
    "model": _MODEL,
    "role": _ROLE,
    "type": _WORD,
    "object": _WORD,
    "id": _ID,
    "tool_call_id": _ID,
    "call_id": _ID,
    "item_id": _ID,
    "previous_response_id": _ID,
    "system_fingerprint": _ID,
    "name": _NAME,
    "tool_name": _NAME,
    "finish_reason": _STATE,
    "done_reason": _STATE,
    "status": _STATE,
    "encoding_format": _STATE,
    "service_tier": _STATE,
    "created_at": _TIMESTAMP,
}
"""Each structural key and the strict format its string value must fullmatch to pass as structure."""
STRUCTURAL_KEYS = frozenset(STRUCTURAL_FORMATS)
FORMAT_NAMES: dict[re.Pattern[str], str] = {
    _ID: "an id: a letter or digit, then letters, digits, '_', '.', ':' or '-', at most 128 characters",
    _NAME: "a name: letters, digits, '_', '.', ':' or '-', at most 128 characters",
    _WORD: "a lower-case word: a-z, then a-z, 0-9, '_' or '.', at most 64 characters",
    _STATE: "a lower-case word: a-z, then a-z, 0-9 or '_', at most 32 characters",
    _MODEL: "a model name: letters, digits and . _ : / @ + -, at most 256 characters",
    _TIMESTAMP: "an RFC 3339 timestamp",
    _ROLE: "one of system, user, assistant, tool, developer, function",
}
"""What each format is, in words, for the caller who sent something else."""

JSON_STRING_KEYS = frozenset({"arguments"})
DATA_KEYS = JSON_STRING_KEYS | {"metadata"}
"""Subtrees that are the caller's own data: every key in them is a plain key, none is structural."""
TOKEN_ID_KEYS = frozenset(
    {"prompt", "input", "context", "content", "text", "tokens", "messages", "instructions", "system", "suffix"}
)
"""Fields that take token ids in some API (completions, embeddings, Ollama generate's ``context``, vLLM), and the
text fields a server could read them from; any key naming tokens or ids (``prompt_token_ids``, ``input_ids``)
counts too (``takes_token_ids``)."""
IMAGE_LIST_KEYS = frozenset({"images"})
"""Fields whose list items may be bare base64 images (Ollama messages and generate)."""
NUMBER_DIGITS = 4
"""Numbers with at least this many digits are inspected: shorter ones cannot spell any value a detector reports
(bank numbers start at 4 digits with context, SSNs at 9, cards at 12)."""

LeafKind = Literal["text", "key", "structure", "malformed", "number", "token_ids"]
Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Leaf:
    """One inspected thing in a request.

    ``kind``: ``text`` (a string, masked where it holds findings), ``key`` (an object key), ``structure`` (a
    structural string in its strict format), ``malformed`` (a structural string that is not), ``number`` (a number's
    digits, in ``value``), ``token_ids`` (a token-id input, ``value`` empty). ``path`` locates it (for a key: the
    object's path plus the key); ``context`` is the key the value sits under, if any (a label such as ``ssn`` that
    qualifies a number).
    """

    kind: LeafKind
    path: Path
    value: str
    context: str = ""


def is_structural(key: str, value: object) -> bool:
    """Whether ``value`` under ``key`` is a structural string in its strict format.

    The one test every layer uses (request walk, whole answers, stream events). A structural string that fails its
    format is text (masked in answers, refused in requests). Passing the format does not prove the value holds no
    finding: an id can be a token; ``rewrite_texts`` still hands it to its ``fn``, and requests scan it.
    """
    pattern = STRUCTURAL_FORMATS.get(key)
    # the empty string holds nothing (clients send ``"name": ""``): it passes as it is
    return pattern is not None and isinstance(value, str) and (not value or pattern.fullmatch(value) is not None)


def structural_format(key: str) -> str:
    """The strict format of a structural key, in words ("" for a key that is not structural)."""
    pattern = STRUCTURAL_FORMATS.get(key)
    return FORMAT_NAMES[pattern] if pattern is not None else ""


def number_digits(value: object) -> str | None:
    """The digits of a JSON number long enough to inspect, as a model reading the forwarded number would see
    them; None for other values and for numbers with fewer than ``NUMBER_DIGITS`` digits.

    An integer (or an integral float below 1e20) gives its digits. Any other float gives the digits of the form it
    is forwarded in, which is its shortest round-trip form (Python's ``repr``, as orjson writes it): a fraction
    gives its whole and fractional digits as two words (``4111111111111111.5`` -> ``4111111111111111 5``,
    ``0.4111111111111111`` -> ``0 4111111111111111``), an exponent form its significant digits (``4.111e20`` ->
    ``4111``): a card hidden in a fraction or a mantissa is still a card.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e20:
            value = int(value)
        else:
            return _float_digits(value)
    if not isinstance(value, int):
        return None
    digits = str(abs(value))
    return digits if len(digits) >= NUMBER_DIGITS else None


def _float_digits(value: float) -> str | None:
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    # an exponent moves the point: the digits a model reads are the significant ones, in a row
    digits = whole + fraction if exponent else f"{whole} {fraction}".strip()
    return digits if sum(c.isdigit() for c in digits) >= NUMBER_DIGITS else None


def is_image(value: str, in_image_list: bool = False) -> bool:
    """Whether a string is a real image (never inspected as text): a data URL of its declared image type, or, in
    an ``images`` list, bare base64 of an image."""
    if value.startswith("data:"):
        return is_inline_image(value)
    return in_image_list and is_base64_image(value)


def _parse_json_string(value: str) -> Any:
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict | list) else None


class NestedTooDeeply(ValueError):
    """A payload nests objects/arrays deeper than the limit ``walk`` was given."""


@dataclass(frozen=True, slots=True)
class Walked:
    """A request body walked once: its leaves (``walk``) and where it holds JSON in a string (tool-call
    ``arguments``), which is all the request side needs to inspect it and to rewrite it (``rewrite_paths``)."""

    body: Any
    leaves: tuple[Leaf, ...]
    json_strings: tuple[Path, ...]


def walk_body(body: Any, max_depth: int | None = None) -> Walked:
    """``body`` walked once; ``NestedTooDeeply`` if it nests objects/arrays more than ``max_depth`` levels (the
    JSON inside strings is not counted). Every later stage is recursive: the limit holds before any of them."""
    json_strings: list[Path] = []
    leaves = tuple(_walk(body, (), "", data=False, depth=0, limit=max_depth, json_strings=json_strings))
    return Walked(body, leaves, tuple(json_strings))


def walk(node: Any) -> Iterator[Leaf]:
    """Every leaf of a request body to inspect, depth first, in document order (a key before its value).

    The top-level ``model`` is not a leaf: the pipeline has routed it to a configured model already, and the
    upstream request carries the configured target instead.
    """
    yield from _walk(node, (), "", data=False, depth=0, limit=None, json_strings=None)


def _walk(
    node: Any, path: Path, key: str, *, data: bool, depth: int, limit: int | None, json_strings: list[Path] | None
) -> Iterator[Leaf]:
    if isinstance(node, str):
        if node and not is_image(node, key in IMAGE_LIST_KEYS):
            yield Leaf("text", path, node, key)
        return
    if isinstance(node, dict | list):
        depth += 1
        if limit is not None and depth > limit:
            raise NestedTooDeeply(f"nested deeper than {limit} levels")
    if isinstance(node, dict):
        for child_key, value in node.items():
            child = (*path, child_key)
            yield Leaf("key", child, child_key)
            if not path and child_key == "model":
                if limit is not None and isinstance(value, dict | list):  # not a leaf, but its nesting counts
                    for _ in _walk(value, child, child_key, data=True, depth=depth, limit=limit, json_strings=None):
                        pass
                continue
            if not data and isinstance(value, str) and child_key in STRUCTURAL_FORMATS:
                yield Leaf("structure" if is_structural(child_key, value) else "malformed", child, value, child_key)
            elif child_key in JSON_STRING_KEYS and isinstance(value, str) and (parsed := _parse_json_string(value)):
                if json_strings is not None:
                    json_strings.append(child)
                yield from _walk(parsed, child, child_key, data=True, depth=0, limit=None, json_strings=json_strings)
            else:
                data_below = data or child_key in DATA_KEYS
                yield from _walk(
                    value, child, child_key, data=data_below, depth=depth, limit=limit, json_strings=json_strings
                )
    elif isinstance(node, list):
        if not data and takes_token_ids(key) and has_token_ids(node):
            yield Leaf("token_ids", path, "", key)
            data = True  # reported once, at the outermost list
        for index, item in enumerate(node):
            yield from _walk(item, (*path, index), key, data=data, depth=depth, limit=limit, json_strings=json_strings)
    elif (digits := number_digits(node)) is not None:
        yield Leaf("number", path, digits, key)


def iter_texts(node: Any) -> Iterator[str]:
    """Every text (string to mask) in ``node``, depth first, in document order."""
    for leaf in walk(node):
        if leaf.kind == "text":
            yield leaf.value


def rewrite_texts(
    node: Any,
    fn: Callable[[str], str],
    drop_keys: frozenset[str] = frozenset(),
    identifier: Callable[[str], str] | None = None,
) -> Any:
    """A copy of ``node`` with every inspected leaf replaced by what ``fn`` makes of it; keys in ``drop_keys``
    become null.

    ``fn`` gets every string but real images — structural ones too, whatever their format (it masks what holds a
    finding and returns the rest unchanged) — every key (a masked key that collides with another gets a ``_2``…
    suffix, so no member is lost), and the digits of every long enough number (a number ``fn`` changes becomes the
    string it returned: a number cannot hold a mask). ``identifier``, when given, takes ``fn``'s place for keys and
    structural strings in their format (answers: ``Masker.identifier`` reads values glued into them).
    """
    return _rewrite(node, fn, drop_keys, "", identifier or fn)


def summarise_images(node: Any, key: str = "") -> Any:
    """A copy of ``node`` with every real image (the strings ``rewrite_texts`` leaves alone) replaced by a short
    marker, ``[image: 34,567 characters of base64]``: what a person reading a held request is shown of it (an image
    may carry anything a camera saw; pixels are for the model, not for every inbox an approval reaches)."""
    if isinstance(node, str):
        return (
            f"[image: {len(node):,} characters of base64]" if node and is_image(node, key in IMAGE_LIST_KEYS) else node
        )
    if isinstance(node, dict):
        return {child_key: summarise_images(value, child_key) for child_key, value in node.items()}
    if isinstance(node, list):
        return [summarise_images(item, key) for item in node]
    return node


def _rewrite(
    node: Any, fn: Callable[[str], str], drop_keys: frozenset[str], key: str, ident: Callable[[str], str]
) -> Any:
    if isinstance(node, str):
        return fn(node) if node and not is_image(node, key in IMAGE_LIST_KEYS) else node
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for child_key, value in node.items():
            if child_key in drop_keys:
                new = None
            elif child_key in JSON_STRING_KEYS and isinstance(value, str) and (parsed := _parse_json_string(value)):
                new = orjson.dumps(_rewrite(parsed, fn, drop_keys, child_key, ident)).decode()
            elif (
                child_key in STRUCTURAL_KEYS
                and isinstance(value, str)
                and (ident is not fn or is_structural(child_key, value))
            ):
                new = ident(value)  # an id or a name, in its format or not (answers: read for glued values too)
            else:
                new = _rewrite(value, fn, drop_keys, child_key, ident)
            out[_unique(out, ident(child_key) if child_key else child_key)] = new
        return out
    if isinstance(node, list):
        return [_rewrite(item, fn, drop_keys, key, ident) for item in node]
    digits = number_digits(node)
    if digits is not None:
        masked = fn(digits)
        return node if masked == digits else masked
    return node


@dataclass(slots=True)
class _Edits:
    """What ``rewrite_paths`` rewrites under one node: the node itself, some of its keys, some children."""

    value: bool = False
    keys: set[str] | None = None
    children: dict[str | int, _Edits] | None = None

    def child(self, part: str | int) -> _Edits:
        if self.children is None:
            self.children = {}
        return self.children.setdefault(part, _Edits())


def rewrite_paths(walked: Walked, paths: Iterable[tuple[Path, bool]], fn: Callable[[str], str]) -> Any:
    """``rewrite_texts(walked.body, fn)`` for an ``fn`` that changes nothing but the leaves at ``paths`` (each with
    whether it is a key), reading only the nodes on the way to them: what holds none is shared, not copied.

    ``fn`` is called on those leaves in the order ``rewrite_texts`` calls it (a value before its key), and JSON
    held in a string (``walked.json_strings``) is written back as ``rewrite_texts`` writes it, so the result is
    the same."""
    root = _Edits()
    for path, is_key in [*((p, False) for p in walked.json_strings), *paths]:
        if is_key:
            node = root
            for part in path[:-1]:
                node = node.child(part)
            if node.keys is None:
                node.keys = set()
            node.keys.add(str(path[-1]))
            continue
        node = root
        for part in path:
            node = node.child(part)
        node.value = True
    return _rewrite_at(walked.body, root, fn, "")


def _rewrite_at(node: Any, edits: _Edits, fn: Callable[[str], str], key: str) -> Any:
    if isinstance(node, dict):
        children = edits.children or {}
        keys = edits.keys or set()
        out: dict[str, Any] = {}
        for child_key, value in node.items():
            sub = children.get(child_key)
            new = value if sub is None else _rewrite_child(child_key, value, sub, fn)
            out[_unique(out, fn(child_key) if child_key and child_key in keys else child_key)] = new
        return out
    if isinstance(node, list):
        items = list(node)
        children = edits.children or {}
        for index in sorted(i for i in children if isinstance(i, int) and 0 <= i < len(items)):  # document order
            items[index] = _rewrite_at(items[index], children[index], fn, key)
        return items
    if not edits.value:
        return node
    if isinstance(node, str):
        return fn(node) if node and not is_image(node, key in IMAGE_LIST_KEYS) else node
    digits = number_digits(node)
    if digits is not None:
        masked = fn(digits)
        return node if masked == digits else masked
    return node


def _rewrite_child(child_key: str, value: Any, edits: _Edits, fn: Callable[[str], str]) -> Any:
    if child_key in JSON_STRING_KEYS and isinstance(value, str) and (parsed := _parse_json_string(value)):
        return orjson.dumps(_rewrite_at(parsed, edits, fn, child_key)).decode()
    if edits.value and child_key in STRUCTURAL_KEYS and is_structural(child_key, value):
        return fn(value)  # as ``rewrite_texts``: a structural string in its format goes to ``fn`` as it is
    return _rewrite_at(value, edits, fn, child_key)


def _unique(out: dict[str, Any], key: str) -> str:
    if key not in out:
        return key
    n = 2
    while f"{key}_{n}" in out:
        n += 1
    return f"{key}_{n}"


def takes_token_ids(key: str) -> bool:
    """Whether a list of numbers under ``key`` is read as token ids (and so cannot be inspected)."""
    lowered = key.lower()
    return lowered in TOKEN_ID_KEYS or "token" in lowered or lowered.endswith("_ids") or lowered == "ids"


def has_token_ids(value: Any) -> bool:
    """Whether a ``prompt``/``input``/``context`` holds token ids: a list with a number anywhere in it, however
    deeply nested (``[1, 2]``, ``[[], [1, 2]]``, ``[[[1]]]``). Token ids cannot be inspected."""
    if not isinstance(value, list):
        return False
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int | float) and not isinstance(item, bool):
            return True
    return False

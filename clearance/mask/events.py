"""Masking streamed answers event by event, for each API's event shapes.

Each class takes parsed events (JSON objects) of one stream and returns the events to send instead, in order.
Every field of every event is inspected; which way depends only on whether the protocol streams it in pieces:

* A *piece* — any string in a chat delta (``content``, ``reasoning_content``, ``reasoning``, ``thinking``,
  ``refusal``, tool names and arguments, keys nobody knows yet), a completion's ``text``, the ``delta`` of any
  Responses ``*.delta`` event, any string of an Ollama ``message`` and Ollama's ``response``/``thinking`` — goes
  through its channel's ``StreamMasker``, which holds back text that might be the start of a value and releases it
  into a later event of the same channel. A channel is keyed by where the piece sits (choice, path, tool-call
  index, item and content indexes), with indexes normalised so ``0``, ``"0"``, ``0.0`` and a missing index are one
  channel.
* Every other string is masked whole (``rewrite_texts``), but structure (``extract.is_structural``).

What a channel still holds is released only when nothing can continue it: at the end of the stream (``end``). An
event that finishes a choice (``finish_reason``) or an Ollama ``done`` line while its channels still hold text is
kept back and sent with that text at the end, so a value straddling it is still held whole. A Responses ``*.done``
event releases the channels it closes just before it; more text for a closed channel afterwards is a protocol error
that ends the stream, never a second half released on its own.

Token ids and log-probabilities (``DROP``, and an Ollama ``context`` list) are dropped: they spell the answer token
by token, where no value can be recognised.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from clearance.exceptions import UpstreamProtocolError
from clearance.mask.masker import Masker
from clearance.mask.stream import LETTER, StreamMasker, holds_number
from clearance.payload.extract import (
    IMAGE_LIST_KEYS,
    STRUCTURAL_KEYS,
    is_image,
    is_structural,
    number_digits,
    rewrite_texts,
)
from clearance.payload.joins import WINDOW

_SPACE = re.compile(r"\s")
_CLEAN_FIELDS = 64
_PER_EVENT = frozenset({"type", "role"})
"""Structural keys of a streamed object whose value each event states whole (enums); every other string is a piece."""
Event = dict[str, Any]
ChannelKey = tuple[Any, ...]
DROP = frozenset({"logprobs", "top_logprobs", "prompt_logprobs", "token_ids", "prompt_token_ids"})
"""Keys nulled wherever they appear in an answer: log-probabilities and token ids spell the unmasked text."""
TOKEN_LISTS = frozenset({"context"})
"""Keys nulled when they hold a list (Ollama's ``context``: the conversation as token ids); text there is masked."""
_ALNUM = re.compile(r"[^\W_]")
_WORD = re.compile(rf"\s*{LETTER}+")
"""A delta key passed as it is: lower-case letters and underscores (every key the APIs use); others are masked."""
_CONTENT_CHOICE = frozenset({"index", "delta", "finish_reason", "logprobs"})
_CONTENT_DELTA = frozenset({"content", "role"})


def channel_index(index: object) -> object:
    """The channel an index names: ``0``, ``"0"``, ``0.0``, ``false`` and a missing index are the same one.

    Any other form (a word, a fraction, a list) is a channel of its own, keyed by its JSON-ish ``repr``: still held
    and masked like any other, never merged with a channel it might be confused with."""
    if index is None:
        return 0
    if type(index) is int:
        return index
    if type(index) is bool:
        return int(index)  # a client's dictionary takes False for 0 and True for 1
    if type(index) is float and index.is_integer():
        return int(index)
    if type(index) is str and index.isascii() and index.strip().isdigit():
        return int(index.strip())
    return ("other", repr(index))


def drop_token_data(node: Any) -> Any:
    """A copy of ``node`` with token-id lists under ``TOKEN_LISTS`` keys nulled (``DROP`` keys are nulled by
    ``rewrite_texts``). Returns ``node`` itself when there is nothing to drop."""
    if isinstance(node, dict):
        out: dict[str, Any] | None = None
        for key, value in node.items():
            new = None if key in TOKEN_LISTS and isinstance(value, list) else drop_token_data(value)
            if new is not value:
                out = out if out is not None else dict(node)
                out[key] = new
        return out if out is not None else node
    if isinstance(node, list):
        items = [drop_token_data(item) for item in node]
        return items if any(a is not b for a, b in zip(items, node, strict=True)) else node
    return node


def mask_answer(masker: Masker, data: Any) -> Any:
    """A whole answer (or a whole part of an event): every text masked, token ids and logprobs dropped, and a value
    split across texts that a client joins (content parts, output items) masked at the join."""
    data = mask_joins(masker, drop_token_data(data))
    return rewrite_texts(data, masker.outgoing, DROP, masker.identifier)


TextPath = tuple[str | int, ...]


def _texts(node: Any, path: TextPath, key: str, out: list[tuple[TextPath, str]]) -> None:
    """The answer's texts in document order, with their paths: every string but ids, names and other structural
    strings, dropped fields and real images."""
    if isinstance(node, str):
        if node and not is_image(node, key in IMAGE_LIST_KEYS) and not is_structural(key, node):
            out.append((path, node))
    elif isinstance(node, dict):
        for child_key, value in node.items():
            if child_key not in DROP:
                _texts(value, (*path, child_key), child_key, out)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _texts(item, (*path, i), key, out)


def mask_joins(masker: Masker, data: Any) -> Any:
    """``data`` with every value that crosses the join of two of its texts masked in each (``Masker.outgoing_joined``):
    clients join the texts of an answer (the openai SDK's ``output_text`` joins every text part of a response), so
    half a value in one part and the rest in the next reaches the reader whole. Returns ``data`` itself when no
    value crosses a join; otherwise a copy."""
    found: list[tuple[TextPath, str]] = []
    _texts(data, (), "", found)
    if len(found) < 2:
        return data
    masked = masker.outgoing_joined([text for _, text in found])
    changed = [(path, new) for (path, old), new in zip(found, masked, strict=True) if new != old]
    if not changed:
        return data
    data = copy.deepcopy(data)
    for path, new in changed:
        node = data
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = new
    return data


class _Channels:
    def __init__(self, masker: Masker) -> None:
        self.masker = masker
        self.clean: set[tuple[str, object]] = set()
        """Event fields (key and scalar value) found to hold nothing: ``_has_text``."""
        self._open: dict[ChannelKey, StreamMasker] = {}
        self.shown: dict[ChannelKey, Any] = {}
        """Per list element keyed by its ``index`` (a tool call), that index as the caller saw it (masked)."""

    def feed(self, key: ChannelKey, text: str) -> str:
        channel = self._open.get(key)
        if channel is None:
            # an id or a name sent in pieces is still an identifier: a value glued into it is found too
            transform = self._identifier if key and key[-1] in STRUCTURAL_KEYS else self._transform
            channel = self._open[key] = StreamMasker(transform, hold_words=self.masker.hold_words)
        return channel.feed(text)

    def flush(self, key: ChannelKey) -> str:
        channel = self._open.pop(key, None)
        return channel.flush() if channel is not None else ""

    def holds(self, prefix: ChannelKey) -> bool:
        """Whether a channel under ``prefix`` holds text back."""
        n = len(prefix)
        return any(k[:n] == prefix and c.held for k, c in self._open.items())

    def pending(self) -> list[ChannelKey]:
        return list(self._open)

    def _transform(self, context: str, segment: str) -> str:
        if not self.masker.plan.restore and not _ALNUM.search(segment):
            return segment  # spaces and punctuation: nothing a detector could report lies in them
        if not self.masker.hold_words and (not context or context[-1].isspace()) and _WORD.fullmatch(segment):
            # the first piece of a word, released early (``StreamMasker``): no masked type's value is a bare word
            return segment
        if context and context[-1].isspace() and not holds_number(segment) and not _starts_capitalised(segment):
            # The words before a segment matter when it continues a value begun before it (the context then ends
            # inside a token), when it holds a number that a label before it qualifies ("account no. 1234…") or
            # when it starts with a capital that a cue before it makes a name ("Hi " then "Priya,").
            # Otherwise rescanning them would only find again what was found when they were released.
            context = ""
        return self.masker.outgoing(segment, context)

    def _identifier(self, context: str, segment: str) -> str:
        """A released piece of an id or a name: masked as text, and a single token read as an identifier too."""
        masked = self._transform(context, segment)
        return masked if _SPACE.search(masked) else self.masker.identifier(masked)

    def whole(self, node: Any) -> Any:
        if isinstance(node, dict) and not _has_text(node, self.masker, self.clean):
            return node
        return mask_answer(self.masker, node)

    def key(self, key: str) -> str:
        """An object key on its way out (``Masker.identifier``: a value glued into it is found too)."""
        return self.masker.identifier(key)

    def pieces(self, prefix: ChannelKey, node: dict[str, Any]) -> dict[str, Any]:
        """A streamed object (a chat delta, an Ollama message): every string in it a piece of its own channel.

        Lists are walked with each element keyed by its ``index`` field when it has one (tool calls), else by its
        position. A tool call's ``arguments`` given as an object (not a JSON string) is a complete value: no client
        merges objects across deltas, so it is masked whole."""
        out: dict[str, Any] = {}
        for key, value in node.items():
            name = self.key(key)
            if key in DROP or (key in TOKEN_LISTS and isinstance(value, list)):
                out[name] = None
            elif key in _PER_EVENT and is_structural(key, value):
                # Clients join every other string of a delta across events (the openai SDK: all but ``index`` and
                # ``type``), so an id or a name sent in pieces that each pass alone must be held as one channel.
                out[name] = self.masker.identifier(value)
            elif key == "index":
                out[name] = self.whole(value)  # a position: each event states it whole
                self.shown.setdefault(prefix, out[name])
            elif isinstance(value, str):
                out[name] = self.feed((*prefix, key), value)
            elif isinstance(value, dict) and key != "arguments":
                out[name] = self.pieces((*prefix, key), value)
            elif isinstance(value, list):
                out[name] = [self._piece_item((*prefix, key), i, item) for i, item in enumerate(value)]
            else:
                out[name] = self.whole(value)
        return out

    def _piece_item(self, prefix: ChannelKey, position: int, item: Any) -> Any:
        if isinstance(item, dict):
            slot = ("#", channel_index(item["index"])) if "index" in item else ("@", position)
            return self.pieces((*prefix, slot), item)
        if isinstance(item, str):
            return self.feed((*prefix, ("@", position)), item)
        return self.whole(item)


def _starts_capitalised(segment: str) -> bool:
    """Whether the first letter or digit of ``segment`` is a capital: it may be a name whose cue came before."""
    for ch in segment:
        if ch.isalnum():
            return ch.isupper()
    return False


def _has_text(node: dict[str, Any], masker: Masker, clean: set[tuple[str, object]], skip: str = "") -> bool:
    """Whether a stream event's own fields (but ``skip``: its choices) hold anything to mask or drop: most hold
    only ids, names and numbers, and walking them for nothing is most of an event's cost. Keys and ids are checked
    (``Masker.identifier``); a field found clean is remembered in ``clean`` (a stream repeats its id, object,
    created and model in every event), up to ``_CLEAN_FIELDS`` of them."""
    for key, value in node.items():
        if key == skip:
            continue
        if isinstance(value, dict | list):
            return True
        if (key, value) in clean:
            continue
        if key in DROP and value is not None:
            return True
        if masker.identifier(key) != key:
            return True
        if isinstance(value, str):
            if not is_structural(key, value) or masker.identifier(value) != value:
                return True
        elif (digits := number_digits(value)) is not None and masker.outgoing(digits) != digits:
            # what ``mask_answer`` does with a long number: its digits masked, or the number left as it is. A
            # stream's ``created`` (ten digits, the same in every event) is read once, then remembered as clean.
            return True
        if len(clean) < _CLEAN_FIELDS:
            clean.add((key, value))
    return False


def place(target: dict[str, Any], path: ChannelKey, text: str, shown: dict[ChannelKey, Any] | None = None) -> None:
    """Put released ``text`` where its channel's pieces go, under ``target`` (a choice's delta), creating the
    objects on the way: ``("tool_calls", ("#", 0), "function", "arguments")`` appends to tool call 0's arguments.

    ``shown``: per list element (its path under ``target``, up to its slot), the ``index`` as the caller saw it,
    masked (``_Channels.shown``): an element rebuilt here carries that, never the upstream's raw index, which may
    be a value."""
    node: Any = target
    for i, step in enumerate(path):
        last = i == len(path) - 1
        if isinstance(step, tuple):  # ``node`` is a list; ``step`` an element, by its index field or position
            kind, slot = step
            if last:
                node.append(text)
                return
            index = (shown or {}).get(path[: i + 1], slot)
            match = next(
                (item for item in node if kind == "#" and isinstance(item, dict) and item.get("index") == index),
                None,
            )
            if match is None:
                match = {"index": index} if kind == "#" else {}
                node.append(match)
            node = match
        elif last:
            node[step] = (node[step] if isinstance(node.get(step), str) else "") + text
        else:
            wanted = list if isinstance(path[i + 1], tuple) else dict
            if not isinstance(node.get(step), wanted):
                node[step] = wanted()
            node = node[step]


class OpenAiChunkMasker:
    """``chat.completion.chunk`` and ``text_completion`` stream chunks."""

    def __init__(self, masker: Masker) -> None:
        self._ch = _Channels(masker)
        self._last: Event = {}
        """The last chunk sent (masked): the chunks made at the end take its id, object, created and model."""
        self._finished: dict[object, Any] = {}
        """Per choice, the finish_reason kept back while the choice still held text."""
        self._index: dict[object, Any] = {}
        """Per choice, the index as the caller saw it (masked if it was not a plain number)."""

    def event(self, chunk: Event) -> list[Event]:
        choices = chunk.get("choices")
        if type(choices) is list and len(choices) == 1:
            content_only = self._content_only(chunk, choices[0])
            if content_only is not None:
                return [content_only]
        out = self._ch.whole({k: v for k, v in chunk.items() if k != "choices"})
        self._last = out
        if isinstance(choices, list):
            out["choices"] = [self._choice(c) if isinstance(c, dict) else self._ch.whole(c) for c in choices]
        elif "choices" in chunk:
            out["choices"] = self._ch.whole(choices)
        return [out]

    def _content_only(self, chunk: Event, choice: Any) -> Event | None:
        """Most chunks of a stream: one choice whose delta holds only its next piece of ``content`` (and maybe a
        structural ``role``), no finish, no logprobs, and nothing to mask among the chunk's own fields. The piece
        goes through its channel as on the general path; only the walk over the rest, which would find nothing, is
        skipped. None when the chunk is not of that shape (the general path takes it)."""
        if type(choice) is not dict or not _CONTENT_CHOICE.issuperset(choice):
            return None
        delta = choice.get("delta")
        index = choice.get("index", 0)
        if (
            type(delta) is not dict
            or not _CONTENT_DELTA.issuperset(delta)
            or type(delta.get("content")) is not str
            or ("role" in delta and not is_structural("role", delta["role"]))
            or type(index) is not int
            or number_digits(index) is not None  # a long number may be a value: the general path masks it
            or choice.get("finish_reason") is not None
            or choice.get("logprobs") is not None
            or _has_text(chunk, self._ch.masker, self._ch.clean, skip="choices")
        ):
            return None
        self._last = chunk  # its own fields hold nothing to mask (``_has_text``)
        if index not in self._index:
            self._index[index] = index
        content: str = delta["content"]
        released = self._ch.feed((index, "delta", "content"), content)
        if released == content:
            return chunk
        return {**chunk, "choices": [{**choice, "delta": {**delta, "content": released}}]}

    def _choice(self, choice: dict[str, Any]) -> dict[str, Any]:
        index = channel_index(choice.get("index"))
        streamed = {
            k for k in ("delta", "text") if isinstance(choice.get(k), dict if k == "delta" else str) and k in choice
        }
        out: dict[str, Any] = self._ch.whole({k: v for k, v in choice.items() if k not in streamed})
        self._index.setdefault(index, out.get("index", 0))
        if "delta" in streamed:
            out["delta"] = self._ch.pieces((index, "delta"), choice["delta"])
        if "text" in streamed:
            out["text"] = self._ch.feed((index, "text"), choice["text"])
        if out.get("finish_reason") is not None and self._ch.holds((index,)):
            # the choice ends while text is held: the finish goes out with that text at the end of the stream, so
            # a value that (against the protocol) goes on after it is still held whole
            self._finished[index] = out["finish_reason"]
            out["finish_reason"] = None
        return out

    def end(self) -> list[Event]:
        """The stream ended: what every choice still holds, with a finish kept back, one chunk per choice."""
        choices: dict[object, dict[str, Any]] = {}
        for key in self._ch.pending():
            text = self._ch.flush(key)
            if not text:
                continue
            choice = choices.setdefault(key[0], {"index": self._index.get(key[0], 0)})
            if key[1] == "text":
                choice["text"] = choice.get("text", "") + text
            else:
                shown = {k[2:]: v for k, v in self._ch.shown.items() if k[:2] == key[:2]}
                place(choice.setdefault("delta", {}), key[2:], text, shown)
        for index, reason in self._finished.items():
            choices.setdefault(index, {"index": self._index.get(index, 0), "delta": {}})["finish_reason"] = reason
        self._finished.clear()
        meta: Event = {k: self._last[k] for k in ("id", "object", "created", "model") if k in self._last}
        out: list[Event] = []
        for choice in choices.values():
            if "text" not in choice:
                choice.setdefault("delta", {})
            choice.setdefault("finish_reason", None)
            out.append({**meta, "choices": [choice]})
        return out


_RESPONSE_IDS = ("item_id", "output_index", "content_index", "summary_index")
_JOINED_TEXT = "response.output_text.delta"
"""Deltas of the text parts that clients join into one (the openai SDK's ``output_text``)."""
_RESPONSE_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed", "error"})


class ResponsesEventMasker:
    """``/v1/responses`` stream events: the ``delta`` of every ``*.delta`` event is a piece of its channel (output
    text, reasoning text and summaries, refusals, function and custom tool input, and types not known yet); every
    other event is masked whole. A ``*.done`` event closes the channels whose ids it names; the stream's terminal
    event is kept back while text is held, and sent after it at the end."""

    def __init__(self, masker: Masker) -> None:
        self._ch = _Channels(masker)
        self._template: dict[ChannelKey, Event] = {}
        self._closed: set[ChannelKey] = set()
        self._terminal: list[Event] = []
        self._raw: dict[ChannelKey, str] = {}
        """Per output text part, its last ``WINDOW`` characters as the upstream sent them (``_suspend``)."""
        self._queue: list[Event] | None = None
        """While a join between output text parts is judged, the events kept back (else None)."""
        self._before = ""
        self._after = ""
        self._decided = False
        self._item_at: dict[Any, Any] = {}
        """Per item id, the ``output_index`` its deltas name (``_check_ids``)."""
        self._id_at: dict[Any, Any] = {}
        """Per ``output_index``, the item id its deltas name."""

    @staticmethod
    def _ids(event: Event) -> tuple[Any, ...]:
        item_id = event.get("item_id")
        return (
            item_id if isinstance(item_id, str) else repr(item_id),
            *(channel_index(event.get(k)) if k in event else None for k in _RESPONSE_IDS[1:]),
        )

    def event(self, event: Event) -> list[Event]:
        out = self._event(event)
        if self._queue is None:
            return out
        self._queue.extend(out)
        return self._resume() if self._decided else []

    def _event(self, event: Event) -> list[Event]:
        kind = event.get("type")
        if isinstance(kind, str) and kind.endswith(".delta") and isinstance(event.get("delta"), str):
            key = (kind, *self._ids(event))
            self._check_ids(key)
            if key in self._closed:
                raise UpstreamProtocolError("the upstream sent more text for an output it had already closed")
            out = self._ch.whole({k: v for k, v in event.items() if k != "delta"})
            self._template.setdefault(key, {k: out[k] for k in ("type", *_RESPONSE_IDS) if k in out})
            text: str = event["delta"]
            out["delta"] = self._ch.feed(key, text)
            if kind == _JOINED_TEXT:
                self._raw[key] = (self._raw.get(key, "") + text)[-WINDOW:]
                if self._queue is not None:
                    self._after += text
                    # only a release holding a letter or digit settles the join: the part's leading number run
                    # (if any) is held whole until a token that ends it, while spaces alone go out at once
                    self._decided = _ALNUM.search(out["delta"]) is not None
                if out["delta"]:
                    self._check_open(key)
            return [out]
        masked = self._ch.whole(event)
        if kind in _RESPONSE_TERMINAL:
            if self._ch.holds(()):
                self._terminal.append(masked)
                return []
            return [*self._release(self._ch.pending()), masked]
        if isinstance(kind, str) and kind.endswith(".done"):
            closing = self._closing(event)
            for key in closing:
                if key[0] == _JOINED_TEXT and self._ch.holds(key):
                    self._suspend(key)
            return [*self._release(closing), masked]
        return [masked]

    def _suspend(self, key: ChannelKey) -> None:
        """An output text part closes while its end is held (it might be the start of a value): the openai SDK's
        ``output_text`` joins it to the next part, so nothing more goes out until the next part's first release
        shows whether a value crosses the join (``_resume``)."""
        if self._queue is not None:
            # The part after the last join is complete: judge that join, then judge the next one with all the text
            # kept back before it (a value may run over several short parts).
            self._check_join()
            self._before = (self._before + self._after)[-WINDOW:]
        else:
            self._queue = []
            self._before = self._raw.get(key, "")
        self._after, self._decided = "", False

    def _check_join(self, before: str | None = None, after: str | None = None) -> None:
        pair = [self._before if before is None else before, self._after if after is None else after]
        if self._ch.masker.outgoing_joined(pair) != pair:
            raise UpstreamProtocolError("the upstream split a value across two parts of its output text")

    def _check_open(self, released: ChannelKey | None = None) -> None:
        """Parts still open: one that releases text while another holds its end (or, at the end of the stream,
        each part still held) is judged against the held end before it, as the SDK joins them."""
        held = [k for k in self._ch.pending() if k[0] == _JOINED_TEXT and self._ch.holds(k) and k != released]
        if released is not None:
            before = "".join(self._raw.get(k, "") for k in held)[-WINDOW:]
            if before:
                self._check_join(before, self._raw.get(released, ""))
            return
        # each held part against all the held text before it: a value may run over several short parts
        before = ""
        for key in held:
            if before:
                self._check_join(before, self._raw.get(key, ""))
            before = (before + self._raw.get(key, ""))[-WINDOW:]

    def _resume(self) -> list[Event]:
        """The part after the join released its first text: end the stream if a value crosses the join, else send
        what was kept back."""
        self._check_join()
        out, self._queue = self._queue or [], None
        return out

    def _check_ids(self, key: ChannelKey) -> None:
        """Refuse deltas that place one output item two ways: clients join deltas either by item id or by position
        (the openai SDK appends an ``output_text`` delta to ``output[output_index].content[content_index]``
        whatever its ``item_id``), so a channel keyed by both would let a value split under a changing id (or a
        moving ``output_index``) be held, and masked, as two halves that the client joins. An item has one id and
        one ``output_index`` (its content and summary parts have indexes of their own)."""
        item_id, output_index = key[1], key[2]
        seen_at = self._item_at.setdefault(item_id, output_index)
        seen_id = self._id_at.setdefault(output_index, item_id)
        if seen_at != output_index or seen_id != item_id:
            raise UpstreamProtocolError("the upstream sent deltas of one output item under different ids or places")

    def _closing(self, done: Event) -> list[ChannelKey]:
        """The open channels a ``*.done`` event closes: those matching every id it names."""
        ids = self._ids(done)
        named = [i for i, k in enumerate(_RESPONSE_IDS) if k in done]
        if not named and isinstance(done.get("item"), dict):  # output_item.done names its item inside it
            item_id = done["item"].get("id")
            named, ids = [0], (item_id if isinstance(item_id, str) else repr(item_id), None, None, None)
        if not named:
            return []
        return [key for key in self._ch.pending() if all(key[1 + i] == ids[i] for i in named)]

    def _release(self, keys: list[ChannelKey]) -> list[Event]:
        out: list[Event] = []
        for key in keys:
            rest = self._ch.flush(key)
            self._closed.add(key)
            if rest:
                out.append({**self._template.get(key, {"type": key[0]}), "delta": rest})
        return out

    def end(self) -> list[Event]:
        self._check_open()
        rest = self._release(self._ch.pending())
        out = self._resume() if self._queue is not None else []
        out += rest
        out += self._terminal
        self._terminal = []
        return out


_OLLAMA_PIECES = frozenset({"response", "thinking"})


class OllamaLineMasker:
    """Ollama NDJSON objects: every string of ``message`` (``content``, ``thinking``, keys not known yet) and the
    generate API's ``response``/``thinking`` are pieces; ``message.tool_calls`` and ``images`` (whole in Ollama) and
    every other field are masked whole. A ``done`` line that comes while text is held is sent with that text at
    the end."""

    def __init__(self, masker: Masker) -> None:
        self._ch = _Channels(masker)
        self._done: Event | None = None

    def event(self, line: Event) -> list[Event]:
        message = line.get("message")
        streamed = {k for k, v in line.items() if k in _OLLAMA_PIECES and isinstance(v, str)}
        if isinstance(message, dict):
            streamed.add("message")
        out = self._ch.whole({k: v for k, v in line.items() if k not in streamed})
        for key in streamed:
            if key != "message":
                out[key] = self._ch.feed((key,), line[key])
        if isinstance(message, dict):
            whole = self._ch.whole({k: v for k, v in message.items() if not isinstance(v, str)})
            out["message"] = {
                self._ch.key(k): self._ch.masker.identifier(v)
                if k in _PER_EVENT and is_structural(k, v)
                else self._ch.feed(("message", k), v)
                for k, v in message.items()
                if isinstance(v, str)
            }
            out["message"].update(whole)
        if line.get("done") and self._ch.holds(()):
            self._done = out
            return []
        return [out]

    def end(self) -> list[Event]:
        held = {key: self._ch.flush(key) for key in self._ch.pending()}
        held = {key: text for key, text in held.items() if text}
        if not held and self._done is None:
            return []
        line: Event = self._done if self._done is not None else {"done": False}
        self._done = None
        for key, text in held.items():
            node: Event = line
            if key[0] == "message":
                if not isinstance(line.get("message"), dict):
                    line["message"] = {"role": "assistant"}
                node, key = line["message"], key[1:]
            name = self._ch.key(key[0])
            node[name] = (node[name] if isinstance(node.get(name), str) else "") + text
        return [line]

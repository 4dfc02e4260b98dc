"""A bounded fuzz run of the request side, through a real gateway to the recording upstream double.

For each endpoint shape, ``REQUESTS`` random requests (a fixed seed per shape) carry real sensitive values in
random places: in texts nested under random extra fields, as object keys, as structural strings (ids, roles,
types, names), as integer numbers, split across adjacent texts, behind a fake ``data:image`` prefix, inside tool
arguments, as token ids. With the default policy (which masks restricted types) the gateway may answer 200 (the
values masked) or 400 (what cannot be masked, refused), never a 5xx, and no raw value ever reaches the upstream:
not in any string, key or number of any body it received, nor in its bytes.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import orjson
import pytest

from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway

REQUESTS = 1000
VALUES = (
    "4111 1111 1111 1111",
    "5500-0000-0000-0004",
    "378282246310005",
    "536-22-1234",
    "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432",
    "AKIA2OGYBAH6STMMNXNN",
    "ghp_4hT9kLm2QxZ7vB1nW8cR5yE3uJ6pA0sD2fG4",
)
NUMBERS = ((4111111111111111, "n"), (5500000000000004, "value"), (536221234, "ssn"), (536221234, "customer_ssn"))
NUMBER_DIGITS = tuple(str(n) for n, _key in NUMBERS)
WORDS = ("note", "see", "alpha", "beta", "hello", "please", "value", "data", "info", "ok")
STRUCTURAL = ("id", "role", "type", "name", "tool_call_id", "call_id", "status", "object", "finish_reason")
GLUE = (" ", "_", "-", ".", ":", "/", "")


def compact(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text)


COMPACT = tuple(compact(v) for v in (*VALUES, *NUMBER_DIGITS))


class Fuzzer:
    """Random requests for one endpoint shape; every random choice comes from ``rng``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def word(self) -> str:
        return self.rng.choice(WORDS)

    def text(self, value: str | None = None) -> str:
        words = [self.word() for _ in range(self.rng.randint(0, 4))]
        if value is not None:
            words.insert(self.rng.randint(0, len(words)), value)
        return " ".join(words) or self.word()

    def key(self) -> str:
        return f"x_{self.word()}{self.rng.randint(0, 99)}"

    def glued(self, value: str) -> str:
        """``value`` glued to a word before it. Directly (no separator) only where a new word visibly starts
        (a digit or a capital after lower case): ``betaghp_…`` is one word, for a detector as for a reader."""
        glue = self.rng.choice(GLUE)
        if not glue and value[0].islower():
            glue = "_"
        return f"{self.word()}{glue}{value}"

    def sensitive(self, data: bool = False) -> Any:
        """A node holding one sensitive value, placed one of several ways (``data``: inside tool arguments, where
        every string is text, so values are not glued to words there: finding those is the detectors' part)."""
        value = self.rng.choice(VALUES)
        how = self.rng.randrange(8)
        if how == 0 or (how == 2 and data):
            return self.text(value)
        if how == 1:
            return {self.glued(value): self.filler(1)}
        if how == 2:
            return {self.rng.choice(STRUCTURAL): self.glued(value)}
        if how == 3:
            number, label = self.rng.choice(NUMBERS)
            return {label: number if self.rng.random() < 0.8 else float(number)}
        if how == 4:
            return f"data:image/png;base64,{self.text(value)}"
        if how == 5:
            return {"arguments": orjson.dumps({self.key(): self.text(value)}).decode()}
        if how == 6:
            return {self.rng.choice(("prompt", "input", "context")): [[], [self.rng.randint(0, 50000)]]}
        return [self.filler(1), self.text(value)]

    def filler(self, depth: int) -> Any:
        kind = self.rng.randrange(4 if depth < 4 else 2)
        if kind == 0:
            return self.text()
        if kind == 1:
            return self.rng.choice((1, 2.5, True, None, 1234))
        if kind == 2:
            return [self.filler(depth + 1) for _ in range(self.rng.randint(0, 3))]
        return {self.key(): self.filler(depth + 1) for _ in range(self.rng.randint(0, 3))}

    def nest(self, node: Any) -> Any:
        """``node`` buried under 0 to 3 levels of random objects and lists."""
        for _ in range(self.rng.randint(0, 3)):
            node = {self.key(): node, self.key(): self.filler(2)} if self.rng.random() < 0.7 else [self.filler(2), node]
        return node

    def extras(self) -> dict[str, Any]:
        """Random extra fields, one of which (most of the time) holds a sensitive value."""
        out = {self.key(): self.filler(1) for _ in range(self.rng.randint(0, 2))}
        if self.rng.random() < 0.8:
            out[self.key()] = self.nest(self.sensitive())
        return out

    def pair(self) -> tuple[str, str]:
        """Two adjacent texts that split a value between them, or a value in one of them."""
        value = self.rng.choice(VALUES)
        if self.rng.random() < 0.6:
            cut = self.rng.randint(1, len(value) - 1)
            return f"{self.text()} {value[:cut]}", f"{value[cut:]} {self.text()}"
        return self.text(value) + " ", self.text()

    def message(self, role: str, content: Any) -> dict[str, Any]:
        message = {"role": role, "content": content}
        if self.rng.random() < 0.3:
            message.update(self.extras())
        return message

    def chat(self) -> dict[str, Any]:
        first, second = self.pair()
        if self.rng.random() < 0.5:
            messages = [self.message("system", first), self.message("user", second)]
        else:
            parts = [{"type": "text", "text": first}, {"type": "text", "text": second}]
            messages = [self.message("user", parts)]
        if self.rng.random() < 0.3:
            call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": self.args()}}
            messages += [{"role": "assistant", "tool_calls": [call]}, self.message("tool", self.text())]
            messages[-1]["tool_call_id"] = "call_1"
        return {"messages": messages, **self.extras()}

    def args(self) -> str:
        return orjson.dumps({self.key(): self.nest(self.sensitive(data=True))}).decode()

    def prompts(self, field: str) -> dict[str, Any]:
        first, second = self.pair()
        value: Any = [first, second] if self.rng.random() < 0.7 else first + second
        return {field: value, **self.extras()}

    def responses(self) -> dict[str, Any]:
        first, second = self.pair()
        if self.rng.random() < 0.5:
            return {"instructions": first, "input": second, **self.extras()}
        content = [{"type": "input_text", "text": first}, {"type": "input_text", "text": second}]
        return {"input": [{"role": "user", "content": content, **self.extras()}], **self.extras()}

    def generate(self) -> dict[str, Any]:
        first, second = self.pair()
        return {"system": first, "prompt": second, "stream": False, **self.extras()}

    def ollama_chat(self) -> dict[str, Any]:
        return {**self.chat(), "stream": False}

    def ollama_embed(self) -> dict[str, Any]:
        first, second = self.pair()
        return {"input": [first, second], **self.extras()}


SHAPES: dict[str, tuple[str, Callable[[Fuzzer], dict[str, Any]]]] = {
    "chat": ("/v1/chat/completions", Fuzzer.chat),
    "completions": ("/v1/completions", lambda f: f.prompts("prompt")),
    "embeddings": ("/v1/embeddings", lambda f: f.prompts("input")),
    "responses": ("/v1/responses", Fuzzer.responses),
    "ollama.chat": ("/api/chat", Fuzzer.ollama_chat),
    "ollama.generate": ("/api/generate", Fuzzer.generate),
    "ollama.embed": ("/api/embed", Fuzzer.ollama_embed),
}


def leaves(node: Any) -> Iterator[str]:
    """Every string, key and number in a received body, in document order."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from leaves(value)
    elif isinstance(node, list):
        for item in node:
            yield from leaves(item)
    elif node is not None and not isinstance(node, bool):
        yield str(node) if not isinstance(node, float) or not node.is_integer() else str(int(node))


def raw_values_in(body: Any) -> list[str]:
    """The sensitive values found in a received body, by their first characters (never printed whole)."""
    found = []
    serialised = orjson.dumps(body).decode()
    everything = [compact(s) for s in leaves(body)]
    joined = "".join(everything)
    for value, flat in zip((*VALUES, *NUMBER_DIGITS), COMPACT, strict=True):
        if value in serialised or any(flat in s for s in everything) or flat in joined:
            found.append(value[:4] + "…")
    return found


@pytest.fixture
async def fuzz_gateway(make_gateway: GatewayFactory, fake_upstream: FakeUpstream) -> RunningGateway:
    return await make_gateway(
        [
            {"name": "oa", "base_url": fake_upstream.base_url, "models": ["fake-model"]},
            {"name": "ol", "kind": "ollama", "base_url": fake_upstream.root, "models": ["ollama-model"]},
        ]
    )


@pytest.mark.parametrize("shape", sorted(SHAPES))
async def test_random_requests_never_forward_a_raw_value(
    shape: str, fuzz_gateway: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    path, build = SHAPES[shape]
    fuzzer = Fuzzer(random.Random(f"request-fuzz-{shape}"))
    statuses: dict[int, int] = {}
    leaks: list[tuple[int, list[str]]] = []
    async with aiohttp.ClientSession() as session:
        for n in range(REQUESTS):
            body = build(fuzzer)
            body["model"] = "ollama-model" if path.startswith("/api/") and fuzzer.rng.random() < 0.5 else "fake-model"
            before = len(fake_upstream.received)
            async with session.post(fuzz_gateway.url + path, data=orjson.dumps(body)) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            for received in fake_upstream.received[before:]:
                if found := raw_values_in(received.body):
                    leaks.append((n, found))
    assert not leaks, f"{len(leaks)} of {REQUESTS} requests forwarded a raw value: {leaks[:5]}"
    assert all(status < 500 for status in statuses), statuses
    assert statuses.get(200, 0) > REQUESTS // 4, statuses  # most requests are masked and forwarded, not refused

"""The load generator, in a process of its own: an aiohttp client that sends chat requests with a fixed number
of workers, bounded both in count and in time, and reports each request's latency.

It reads one JSON command per line on stdin and answers one JSON line on stdout, keeping its connection pool
between commands so a measurement reuses the connections its warm-up opened:

    {"url": "http://127.0.0.1:9002/v1/chat/completions", "stream": true, "concurrency": 16,
     "requests": 2000, "seconds": 5.0}
    -> {"latencies_ms": [...], "elapsed_s": 4.2, "completed": 2000, "errors": 0, "error_sample": null}

Latency is from sending the request to having read the whole answer (the last stream event for streams).

Optional fields make it check what it reads and time streams: ``body`` (the request body as JSON text, instead of
the plain 2 KB chat request), ``required`` and ``forbidden`` (strings the answer's text must and must never
contain: the message content, or a stream's content deltas joined, so a value split across events is caught),
``ttft`` (also report each stream's time to its first event and to its first non-empty content delta) and
``stagger_s`` (worker ``i`` starts ``i * stagger_s`` later, so paced streams do not move in lock-step).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp
import orjson

from bench.event_loop import LoopKind, run
from bench.expectations import problem as text_problem

MODEL = "bench-model"
_VOCABULARY = (
    "revenue forecast region quarter customer contract renewal margin supplier invoice shipment delay "
    "warehouse inventory pricing discount approval budget headcount roadmap milestone risk review"
)
_WORDS = _VOCABULARY.split()


def prompt_text(chars: int) -> str:
    """Deterministic prose-like text of about ``chars`` characters."""
    words: list[str] = []
    size = 0
    i = 0
    while size < chars:
        word = _WORDS[(i * 7 + i // 3) % len(_WORDS)]
        words.append(word)
        size += len(word) + 1
        i += 1
    return " ".join(words)[:chars]


def chat_skeleton(system: str, stream: bool, model: str = MODEL, max_tokens: int = 128) -> dict[str, Any]:
    """A chat request with a system prompt and an empty user message (streamed with the usage chunk)."""
    skeleton: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": ""}],
        "temperature": 0.2,
        "max_tokens": max_tokens,
    }
    if stream:
        skeleton["stream"] = True
        skeleton["stream_options"] = {"include_usage": True}
    return skeleton


def chat_body(stream: bool, prompt_bytes: int = 2048, model: str = MODEL) -> bytes:
    """A chat request whose JSON body is about ``prompt_bytes`` long: a system prompt and a user question."""
    skeleton = chat_skeleton(
        "You are a careful assistant for the finance team. Answer briefly. " + prompt_text(200), stream, model
    )
    room = max(0, prompt_bytes - len(orjson.dumps(skeleton)))
    skeleton["messages"][1]["content"] = prompt_text(room)
    return orjson.dumps(skeleton)


@dataclass
class Command:
    url: str
    stream: bool
    concurrency: int
    requests: int
    seconds: float
    body: str | None = None
    required: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    ttft: bool = False
    stagger_s: float = 0.0


@dataclass
class Outcome:
    latencies_ms: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    completed: int = 0
    errors: int = 0
    error_sample: str | None = None
    ttft_ms: list[float] = field(default_factory=list)
    """Per completed stream: from sending the request to the first content delta that carries text."""
    first_event_ms: list[float] = field(default_factory=list)
    """Per completed stream: from sending the request to its first data event (of any content)."""


@dataclass
class Answer:
    """What one request got back: the raw body, the answer's text, and when a stream's first pieces came."""

    status: int
    body: bytes
    text: str | None = None
    first_event_at: float | None = None
    first_content_at: float | None = None


def answer_text(body: bytes, stream: bool) -> str:
    """The text a caller reads: the first choice's message content, or every content delta of a stream joined."""
    if not stream:
        message = orjson.loads(body)["choices"][0]["message"]
        return str(message.get("content") or "")
    parts = []
    for line in body.split(b"\n"):
        if line.startswith(b"data: {"):
            parts.append(_delta_text(orjson.loads(line[6:])))
    return "".join(parts)


def _delta_text(event: dict[str, Any]) -> str:
    choices = event.get("choices") or ()
    return "".join(str((c.get("delta") or {}).get("content") or "") for c in choices)


async def read_answer(response: aiohttp.ClientResponse, stream: bool, timed: bool) -> Answer:
    """Read the whole answer; for a timed stream, line by line, noting when the first event and text arrived."""
    if not (stream and timed):
        return Answer(response.status, await response.read())
    answer = Answer(response.status, b"")
    lines = []
    async for line in response.content:
        lines.append(line)
        if answer.first_content_at is None and line.startswith(b"data: {"):
            now = time.perf_counter()
            answer.first_event_at = answer.first_event_at or now
            if _delta_text(orjson.loads(line[6:])):
                answer.first_content_at = now
    answer.body = b"".join(lines)
    return answer


def answer_problem(status: int, body: bytes, stream: bool) -> str | None:
    """Why an answer is not the complete success it should be, or None when it is."""
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    if stream and not body.endswith(b"data: [DONE]\n\n"):
        return "the stream did not end with [DONE]"
    if not stream and b'"choices"' not in body:
        return "the answer has no choices"
    return None


def judge(answer: Answer, command: Command) -> str | None:
    """Why an answer fails the command's checks, or None."""
    problem = answer_problem(answer.status, answer.body, command.stream)
    if problem is not None or not (command.required or command.forbidden):
        return problem
    try:
        text = answer_text(answer.body, command.stream)
    except (orjson.JSONDecodeError, LookupError, TypeError, AttributeError):
        return "the answer is not the JSON it should be"
    return text_problem(text, command.required, command.forbidden, "caller")


async def drive(session: aiohttp.ClientSession, command: Command) -> Outcome:
    """Send up to ``command.requests`` requests with ``command.concurrency`` workers, stopping at the deadline."""
    body = command.body.encode() if command.body is not None else chat_body(command.stream)
    headers = {"Content-Type": "application/json", "Authorization": "Bearer bench-caller"}
    outcome = Outcome()
    started = time.perf_counter()
    deadline = started + command.seconds
    issued = 0

    async def worker(delay: float) -> None:
        nonlocal issued
        await asyncio.sleep(delay)
        while issued < command.requests and time.perf_counter() < deadline:
            issued += 1
            t0 = time.perf_counter()
            answer = None
            try:
                async with session.post(command.url, data=body, headers=headers) as response:
                    answer = await read_answer(response, command.stream, command.ttft)
                    problem = judge(answer, command)
            except (aiohttp.ClientError, OSError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if problem is None and answer is not None:
                outcome.latencies_ms.append((time.perf_counter() - t0) * 1000.0)
                outcome.completed += 1
                if answer.first_event_at is not None:
                    outcome.first_event_ms.append((answer.first_event_at - t0) * 1000.0)
                if answer.first_content_at is not None:
                    outcome.ttft_ms.append((answer.first_content_at - t0) * 1000.0)
            else:
                outcome.errors += 1
                outcome.error_sample = outcome.error_sample or problem

    await asyncio.gather(*(worker(i * command.stagger_s) for i in range(command.concurrency)))
    outcome.elapsed_s = time.perf_counter() - started
    return outcome


async def serve_commands() -> None:
    loop = asyncio.get_running_loop()
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line.strip():
                return
            outcome = await drive(session, Command(**orjson.loads(line)))
            sys.stdout.write(orjson.dumps(asdict(outcome)).decode() + "\n")
            sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="asyncio")
    args = parser.parse_args()
    loop: LoopKind = args.loop
    run(serve_commands(), loop)


if __name__ == "__main__":
    main()

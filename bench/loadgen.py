"""The load generator, in a process of its own: an aiohttp client that sends chat requests with a fixed number
of workers, bounded both in count and in time, and reports each request's latency.

It reads one JSON command per line on stdin and answers one JSON line on stdout, keeping its connection pool
between commands so a measurement reuses the connections its warm-up opened:

    {"url": "http://127.0.0.1:9002/v1/chat/completions", "stream": true, "concurrency": 16,
     "requests": 2000, "seconds": 5.0}
    -> {"latencies_ms": [...], "elapsed_s": 4.2, "completed": 2000, "errors": 0, "error_sample": null}

Latency is from sending the request to having read the whole answer (the last stream event for streams).
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


def chat_body(stream: bool, prompt_bytes: int = 2048) -> bytes:
    """A chat request whose JSON body is about ``prompt_bytes`` long: a system prompt and a user question."""
    system = "You are a careful assistant for the finance team. Answer briefly. " + prompt_text(200)
    skeleton: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": ""}],
        "temperature": 0.2,
        "max_tokens": 128,
    }
    if stream:
        skeleton["stream"] = True
        skeleton["stream_options"] = {"include_usage": True}
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


@dataclass
class Outcome:
    latencies_ms: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    completed: int = 0
    errors: int = 0
    error_sample: str | None = None


def answer_problem(status: int, body: bytes, stream: bool) -> str | None:
    """Why an answer is not the complete success it should be, or None when it is."""
    if status != 200:
        return f"HTTP {status}: {body[:200]!r}"
    if stream and not body.endswith(b"data: [DONE]\n\n"):
        return "the stream did not end with [DONE]"
    if not stream and b'"choices"' not in body:
        return "the answer has no choices"
    return None


async def drive(session: aiohttp.ClientSession, command: Command) -> Outcome:
    """Send up to ``command.requests`` requests with ``command.concurrency`` workers, stopping at the deadline."""
    body = chat_body(command.stream)
    headers = {"Content-Type": "application/json", "Authorization": "Bearer bench-caller"}
    outcome = Outcome()
    started = time.perf_counter()
    deadline = started + command.seconds
    issued = 0

    async def worker() -> None:
        nonlocal issued
        while issued < command.requests and time.perf_counter() < deadline:
            issued += 1
            t0 = time.perf_counter()
            try:
                async with session.post(command.url, data=body, headers=headers) as response:
                    answer = await response.read()
                    problem = answer_problem(response.status, answer, command.stream)
            except (aiohttp.ClientError, OSError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if problem is None:
                outcome.latencies_ms.append((time.perf_counter() - t0) * 1000.0)
                outcome.completed += 1
            else:
                outcome.errors += 1
                outcome.error_sample = outcome.error_sample or problem

    await asyncio.gather(*(worker() for _ in range(command.concurrency)))
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

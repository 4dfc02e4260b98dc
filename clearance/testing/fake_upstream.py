"""``FakeUpstream``: a fast test double of a model server (OpenAI and Ollama APIs) on loopback.

It is not a model: it answers every request with a scripted reply, speaking exact OpenAI SSE and Ollama NDJSON,
and records everything it received (path, headers, parsed body) so tests can assert what reached "the model".
Knobs make it slow, broken or chatty: a delay before the headers, a delay between stream events, an HTTP error
status, a disconnect mid-stream, arbitrary re-chunking of the stream bytes, and raw answers (any JSON, any stream
frames) to play a careless or hostile upstream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Self

import orjson
from aiohttp import web


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeUpstreamBehaviour:
    reply: str = "Hello! I am a test double, not a model."
    """The answer's text; streams send it in pieces of ``piece_chars``."""
    piece_chars: int = 8
    pieces: list[str] | None = None
    """Exact content pieces, one per stream event (overrides ``reply``/``piece_chars``): to split a value anywhere."""
    events: int | None = None
    """Send exactly this many content events (cycling through the reply), instead of the reply once."""
    first_byte_delay_s: float = 0.0
    event_delay_s: float = 0.0
    error_status: int | None = None
    error_body: bytes = b'{"error": {"message": "upstream says no", "type": "invalid_request_error"}}'
    disconnect_after_events: int | None = None
    chunker: Callable[[bytes], Iterator[bytes]] | None = None
    """Re-chunk the whole stream's bytes before sending (to test events split across reads)."""
    tool_call: dict[str, Any] | None = None
    raw_answer: dict[str, Any] | None = None
    """The exact JSON object to answer a non-streaming request with (overrides the scripted answer)."""
    raw_frames: list[bytes] | None = None
    """The exact bytes of a streamed answer, frame by frame (SSE or NDJSON as the path wants; overrides the
    scripted stream): any events, in any shape, to play an upstream that sends what the gateway does not expect."""
    embedding_dim: int = 8
    models: tuple[str, ...] = ("fake-model",)


@dataclass
class FakeUpstream:
    """The double. ``async with FakeUpstream() as up: up.base_url`` (``…/v1``) and ``up.root``."""

    behaviour: FakeUpstreamBehaviour = field(default_factory=FakeUpstreamBehaviour)
    received: list[Received] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    reuse_port: bool = False
    """Bind with ``SO_REUSEPORT``: several processes serve one port (the workers benchmark's upstream)."""
    cancelled: int = 0
    """How many streamed responses were cut short because the client (the gateway) went away."""
    _runner: web.AppRunner | None = None

    @property
    def root(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root + "/v1"

    def all_text_received(self) -> str:
        """Every request body received, serialised: for asserting a value never arrived."""
        return "\n".join(orjson.dumps(r.body).decode() for r in self.received)

    async def start(self) -> Self:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for path in (
            "/v1/chat/completions",
            "/v1/completions",
            "/v1/embeddings",
            "/v1/responses",
            "/api/chat",
            "/api/generate",
            "/api/embed",
        ):
            app.router.add_post(path, self._handle)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/api/tags", self._tags)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_port=self.reuse_port or None)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- handlers ---------------------------------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        self.received.append(Received(request.method, request.path, dict(request.headers), None))
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.behaviour.models]
        return web.json_response({"object": "list", "data": data})

    async def _tags(self, request: web.Request) -> web.Response:
        self.received.append(Received(request.method, request.path, dict(request.headers), None))
        return web.json_response({"models": [{"name": m, "model": m} for m in self.behaviour.models]})

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        self.received.append(Received(request.method, request.path, dict(request.headers), body))
        b = self.behaviour
        if b.first_byte_delay_s:
            await asyncio.sleep(b.first_byte_delay_s)
        if b.error_status is not None:
            return web.Response(status=b.error_status, body=b.error_body, content_type="application/json")
        path = request.path
        model = body.get("model", "")
        if path.endswith("embeddings") or path == "/api/embed":
            return self._embeddings(path, body)
        ollama = path.startswith("/api/")
        stream = body.get("stream", ollama)
        if not stream:
            if b.raw_answer is not None:
                return web.json_response(b.raw_answer)
            return web.json_response(self._whole(path, model, body))
        return await self._stream(request, path, model, body)

    def _embeddings(self, path: str, body: dict[str, Any]) -> web.Response:
        inputs = body.get("input")
        items = inputs if isinstance(inputs, list) else [inputs]
        vectors = [
            [round(0.1 * (i + 1) + 0.01 * j, 4) for j in range(self.behaviour.embedding_dim)] for i in range(len(items))
        ]
        if path == "/api/embed":
            return web.json_response({"model": body.get("model"), "embeddings": vectors})
        return web.json_response(
            {
                "object": "list",
                "model": body.get("model"),
                "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
                "usage": {"prompt_tokens": 3 * len(items), "total_tokens": 3 * len(items)},
            }
        )

    def _pieces(self) -> list[str]:
        b = self.behaviour
        if b.pieces is not None:
            return list(b.pieces)
        pieces = [b.reply[i : i + b.piece_chars] for i in range(0, len(b.reply), b.piece_chars)] or [""]
        if b.events is not None:
            pieces = [pieces[i % len(pieces)] for i in range(b.events)]
        return pieces

    def _usage(self) -> dict[str, int]:
        completion = len(self._pieces())
        return {"prompt_tokens": 11, "completion_tokens": completion, "total_tokens": 11 + completion}

    def _whole(self, path: str, model: str, body: dict[str, Any]) -> dict[str, Any]:
        text = "".join(self._pieces())
        if path == "/api/chat":
            message: dict[str, Any] = {"role": "assistant", "content": text}
            return {
                "model": model,
                "created_at": "2026-01-01T00:00:00Z",
                "message": message,
                "done": True,
                "done_reason": "stop",
                "prompt_eval_count": 11,
                "eval_count": 5,
            }
        if path == "/api/generate":
            return {
                "model": model,
                "created_at": "2026-01-01T00:00:00Z",
                "response": text,
                "done": True,
                "done_reason": "stop",
                "prompt_eval_count": 11,
                "eval_count": 5,
            }
        if path == "/v1/completions":
            return {
                "id": "cmpl-fake",
                "object": "text_completion",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}],
                "usage": self._usage(),
            }
        if path == "/v1/responses":
            return {
                "id": "resp_fake",
                "object": "response",
                "created_at": int(time.time()),
                "model": model,
                "status": "completed",
                "output": [
                    {
                        "type": "message",
                        "id": "msg_fake",
                        "role": "assistant",
                        "status": "completed",
                        "content": [{"type": "output_text", "text": text, "annotations": []}],
                    }
                ],
                "usage": {"input_tokens": 11, "output_tokens": 5, "total_tokens": 16},
            }
        msg: dict[str, Any] = {"role": "assistant", "content": text}
        if self.behaviour.tool_call is not None:
            msg["tool_calls"] = [{"id": "call_1", "type": "function", "function": self.behaviour.tool_call}]
        n = int(body.get("n") or 1)
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": i, "message": msg, "finish_reason": "stop", "logprobs": None} for i in range(n)],
            "usage": self._usage(),
        }

    def _stream_frames(self, path: str, model: str, body: dict[str, Any]) -> list[bytes]:
        pieces = self._pieces()
        created = int(time.time())
        if path.startswith("/api/"):
            key = "response" if path == "/api/generate" else "message"
            frames = []
            for piece in pieces:
                value: Any = piece if key == "response" else {"role": "assistant", "content": piece}
                frames.append(
                    orjson.dumps({"model": model, "created_at": "2026-01-01T00:00:00Z", key: value, "done": False})
                    + b"\n"
                )
            final: Any = "" if key == "response" else {"role": "assistant", "content": ""}
            frames.append(
                orjson.dumps(
                    {
                        "model": model,
                        "created_at": "2026-01-01T00:00:00Z",
                        key: final,
                        "done": True,
                        "done_reason": "stop",
                        "prompt_eval_count": 11,
                        "eval_count": len(pieces),
                    }
                )
                + b"\n"
            )
            return frames
        if path == "/v1/responses":
            frames = [
                b"event: response.created\ndata: "
                + orjson.dumps(
                    {
                        "type": "response.created",
                        "response": {
                            "id": "resp_fake",
                            "object": "response",
                            "created_at": created,
                            "model": model,
                            "status": "in_progress",
                            "output": [],
                        },
                    }
                )
                + b"\n\n"
            ]
            for piece in pieces:
                frames.append(
                    b"event: response.output_text.delta\ndata: "
                    + orjson.dumps(
                        {
                            "type": "response.output_text.delta",
                            "item_id": "msg_fake",
                            "output_index": 0,
                            "content_index": 0,
                            "delta": piece,
                        }
                    )
                    + b"\n\n"
                )
            frames.append(
                b"event: response.completed\ndata: "
                + orjson.dumps(
                    {
                        "type": "response.completed",
                        "response": {
                            "id": "resp_fake",
                            "object": "response",
                            "created_at": created,
                            "model": model,
                            "status": "completed",
                            "output": [],
                            "usage": {
                                "input_tokens": 11,
                                "output_tokens": len(pieces),
                                "total_tokens": 11 + len(pieces),
                            },
                        },
                    }
                )
                + b"\n\n"
            )
            return frames
        n = int(body.get("n") or 1)
        chat = path == "/v1/chat/completions"
        obj = "chat.completion.chunk" if chat else "text_completion"
        frames = []
        for piece in pieces:
            for i in range(n):
                choice: dict[str, Any] = (
                    {"index": i, "delta": {"content": piece}, "finish_reason": None}
                    if chat
                    else {"index": i, "text": piece, "finish_reason": None}
                )
                frames.append(
                    b"data: "
                    + orjson.dumps(
                        {"id": "chatcmpl-fake", "object": obj, "created": created, "model": model, "choices": [choice]}
                    )
                    + b"\n\n"
                )
        if chat and self.behaviour.tool_call is not None:
            fn = self.behaviour.tool_call
            args = str(fn.get("arguments", ""))
            half = len(args) // 2
            for j, part in enumerate((args[:half], args[half:])):
                delta = {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": fn["name"], "arguments": part},
                        }
                        if j == 0
                        else {"index": 0, "function": {"arguments": part}}
                    ]
                }
                frames.append(
                    b"data: "
                    + orjson.dumps(
                        {
                            "id": "chatcmpl-fake",
                            "object": obj,
                            "created": created,
                            "model": model,
                            "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                        }
                    )
                    + b"\n\n"
                )
        for i in range(n):
            end: dict[str, Any] = (
                {"index": i, "delta": {}, "finish_reason": "stop"}
                if chat
                else {"index": i, "text": "", "finish_reason": "stop"}
            )
            frames.append(
                b"data: "
                + orjson.dumps(
                    {"id": "chatcmpl-fake", "object": obj, "created": created, "model": model, "choices": [end]}
                )
                + b"\n\n"
            )
        if (body.get("stream_options") or {}).get("include_usage"):
            frames.append(
                b"data: "
                + orjson.dumps(
                    {
                        "id": "chatcmpl-fake",
                        "object": obj,
                        "created": created,
                        "model": model,
                        "choices": [],
                        "usage": self._usage(),
                    }
                )
                + b"\n\n"
            )
        frames.append(b"data: [DONE]\n\n")
        return frames

    async def _stream(self, request: web.Request, path: str, model: str, body: dict[str, Any]) -> web.StreamResponse:
        b = self.behaviour
        content_type = "application/x-ndjson" if path.startswith("/api/") else "text/event-stream"
        response = web.StreamResponse(headers={"Content-Type": content_type})
        await response.prepare(request)
        frames = list(b.raw_frames) if b.raw_frames is not None else self._stream_frames(path, model, body)
        if b.disconnect_after_events is not None:
            frames = frames[: b.disconnect_after_events]
        chunks = list(b.chunker(b"".join(frames))) if b.chunker is not None else frames
        try:
            for chunk in chunks:
                if b.event_delay_s:
                    await asyncio.sleep(b.event_delay_s)
                await response.write(chunk)
        except (asyncio.CancelledError, ConnectionResetError):
            self.cancelled += 1
            raise
        if b.disconnect_after_events is not None:
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write_eof()
        return response

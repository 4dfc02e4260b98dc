"""Fixtures of the attack suite: one gateway per module in front of a scriptable recording upstream.

``ScriptedUpstream`` is the project's ``FakeUpstream`` plus one knob, ``script``: when set, every model request is
answered with exactly those bytes (status, headers, body chunks), so attacks can send any event, header or
malformed body a careless upstream could. It also records each request's raw bytes, so nothing the gateway sends
escapes the leak check, even a body that is not JSON.

``attack`` (per test) resets the double, marks where this test's audit rows and log lines begin, and gives the
test one object to send requests through and to run the leak check over every place at the end. Modules share a
gateway (``pytestmark = ATTACK_LOOP`` runs their tests on the module's event loop) to keep the suite fast.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import openai
import orjson
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from clearance.app import AUDIT, create_app
from clearance.audit.store import SqlAuditStore
from clearance.config import GatewayConfig, parse_config
from clearance.observability.logging import JsonFormatter
from clearance.server import runner_options
from clearance.testing.fake_upstream import FakeUpstream, FakeUpstreamBehaviour, Received
from tests.attacks.harness import Place, Secret, assert_no_5xx, assert_no_leak, flatten, joined_values

ATTACK_LOOP = pytest.mark.asyncio(loop_scope="module")

OPENAI_MODEL = "fake-model"
OLLAMA_MODEL = "olla-model"


@dataclass
class Script:
    """An exact answer: status, headers and body chunks (sent in order, one write each)."""

    chunks: list[bytes]
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


@dataclass
class ScriptedUpstream(FakeUpstream):
    script: Script | None = None
    raw_received: list[bytes] = field(default_factory=list)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        self.raw_received.append(raw)
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            parsed = None
        if self.script is None and isinstance(parsed, dict):
            return await super()._handle(request)
        self.received.append(Received(request.method, request.path, dict(request.headers), parsed))
        script = self.script or Script([b'{"error": {"message": "not JSON"}}'], status=400)
        response = web.StreamResponse(status=script.status, headers=script.headers)
        await response.prepare(request)
        for chunk in script.chunks:
            await response.write(chunk)
        await response.write_eof()
        return response

    def reset(self) -> None:
        self.received.clear()
        self.raw_received.clear()
        self.script = None
        self.behaviour = FakeUpstreamBehaviour()


def upstream_config(upstream: FakeUpstream) -> list[dict[str, Any]]:
    """The double behind two upstream kinds: OpenAI (``fake-model``) and Ollama (``olla-model``)."""
    return [
        {"name": "fake", "base_url": upstream.base_url, "models": [{"name": OPENAI_MODEL, "aliases": ["fm"]}]},
        {"name": "olla", "kind": "ollama", "base_url": upstream.root, "models": [OLLAMA_MODEL]},
    ]


@dataclass
class AttackGateway:
    server: TestServer
    app: web.Application
    db_path: Path

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    async def flush(self) -> None:
        store = self.app[AUDIT]
        assert isinstance(store, SqlAuditStore)
        await store.flush()

    def max_row_id(self) -> int:
        with sqlite3.connect(self.db_path) as db:
            return int(db.execute("SELECT coalesce(max(id), 0) FROM audit_records").fetchone()[0])

    def rows_since(self, mark: int) -> list[dict[str, Any]]:
        with sqlite3.connect(self.db_path) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM audit_records WHERE id > ? ORDER BY id", (mark,)).fetchall()
            return [dict(r) for r in rows]


def prompt_audit_store(url: str) -> SqlAuditStore:
    """The SQL store the gateway builds, without its 0.1 s batching linger: each attack waits for its rows."""
    return SqlAuditStore(url, linger_s=0)


def served_as_in_production(config: GatewayConfig) -> dict[str, Any]:
    """``clearance.server``'s runner options (timeouts, body decoding), as ``TestServer.start_server`` takes them
    (it sets ``handler_cancellation`` itself)."""
    return {k: v for k, v in runner_options(config.server).items() if k != "handler_cancellation"}


async def start_gateway(upstream: FakeUpstream, db_path: Path, **extra: Any) -> AttackGateway:
    config = parse_config({"upstreams": upstream_config(upstream), "audit": {"url": f"sqlite:///{db_path}"}, **extra})
    app = create_app(config, audit=prompt_audit_store(config.database.url))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(**served_as_in_production(config))
    return AttackGateway(server, app, db_path)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def upstream() -> AsyncIterator[ScriptedUpstream]:
    async with ScriptedUpstream() as up:
        yield up


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(upstream: ScriptedUpstream, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AttackGateway]:
    gateway = await start_gateway(upstream, tmp_path_factory.mktemp("attack-audit") / "audit.db")
    yield gateway
    await gateway.server.close()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)

    def items(self) -> list[Any]:
        """The body as JSON items: one object, or each SSE ``data:`` line / NDJSON line that parses."""
        try:
            return [orjson.loads(self.body)]
        except orjson.JSONDecodeError:
            pass
        out = []
        for line in self.body.splitlines():
            text = line[5:].strip() if line.startswith(b"data:") else line.strip()
            try:
                out.append(orjson.loads(text))
            except orjson.JSONDecodeError:
                continue
        return out

    def error_code(self) -> str | None:
        """The ``error.code`` of an error answer (whole, or the last error event of a stream)."""
        for item in reversed(self.items()):
            if isinstance(item, dict) and "error" in item:
                err = item["error"]
                return str(err.get("code")) if isinstance(err, dict) else str(item.get("code"))
        return None


TEXT_KEYS = frozenset(
    {
        "content",
        "text",
        "delta",
        "reasoning_content",
        "reasoning",
        "thinking",
        "refusal",
        "arguments",
        "response",
        "input",
    }
)


def _collect(node: Any, into: dict[str, list[str]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEXT_KEYS and isinstance(value, str):
                into.setdefault(key, []).append(value)
            else:
                _collect(value, into)
    elif isinstance(node, list):
        for item in node:
            _collect(item, into)


def assembled_texts(streams: Iterable[list[Any]]) -> list[str]:
    """Each answer's text as a client assembles a stream: every piece of a text field joined, whatever the choice
    index or event it came in (so a value released in parts, or under an index the gateway did not match, shows
    whole)."""
    out: list[str] = []
    for items in streams:
        texts: dict[str, list[str]] = {}
        for item in items:
            _collect(item, texts)
        out.extend("".join(pieces) for pieces in texts.values())
    return out


class Attack:
    """One attack's view of the world: send through the gateway, then check every place for leaks."""

    def __init__(
        self, gw: AttackGateway, upstream: ScriptedUpstream, caplog: pytest.LogCaptureFixture, mark: int
    ) -> None:
        self.gw = gw
        self.upstream = upstream
        self.caplog = caplog
        self.mark = mark
        self.replies: list[Reply] = []
        self.sdk_outputs: list[str] = []
        self.sdk_statuses: list[int] = []

    async def post(
        self, path: str, body: Any, *, headers: dict[str, str] | None = None, raw: bytes | None = None
    ) -> Reply:
        data = raw if raw is not None else orjson.dumps(body)
        sent = {"Content-Type": "application/json", **(headers or {})}
        async with (
            aiohttp.ClientSession(auto_decompress=False) as session,
            session.post(self.gw.url + path, data=data, headers=sent) as response,
        ):
            reply = Reply(response.status, dict(response.headers), await response.read())
        self.replies.append(reply)
        return reply

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        async with aiohttp.ClientSession() as session, session.get(self.gw.url + path, headers=headers) as response:
            reply = Reply(response.status, dict(response.headers), await response.read())
        self.replies.append(reply)
        return reply

    def saw(self, text: str, status: int = 200) -> None:
        """Record what an SDK call returned to the caller (its objects, serialised), for the leak check."""
        self.sdk_outputs.append(text)
        self.sdk_statuses.append(status)

    def saw_error(self, error: openai.APIStatusError) -> None:
        """Record an SDK error answer (its status and body)."""
        self.saw(f"{error.message}\n{error.body}\n{error.response.text}", error.status_code)

    async def places(self) -> list[Place]:
        await self.gw.flush()
        up = self.upstream
        places = [
            Place(
                "the upstream body",
                "\n".join(
                    [*(t for r in up.received for t in flatten(r.body)), *(joined_values(r.body) for r in up.received)]
                ),
            ),
            Place("the upstream raw bytes", "\n".join(b.decode("utf-8", "replace") for b in up.raw_received)),
            Place(
                "the upstream headers and paths",
                "\n".join(f"{r.path}\n" + "\n".join(f"{k}: {v}" for k, v in r.headers.items()) for r in up.received),
            ),
        ]
        caller = []
        for reply in self.replies:
            caller.append("\n".join(f"{k}: {v}" for k, v in reply.headers.items()))
            caller.append(reply.body.decode("utf-8", "replace"))
            caller.extend(t for item in reply.items() for t in flatten(item))
            caller.append(joined_values(reply.items()))
        caller.extend(self.sdk_outputs)
        caller.extend(assembled_texts(reply.items() for reply in self.replies))
        places.append(Place("the caller's answer", "\n".join(caller)))
        formatter = JsonFormatter()
        # aiohttp's access log is switched off in production (``configure_logging``); everything else counts
        logged = [formatter.format(r) for r in self.caplog.records if r.name != "aiohttp.access"]
        places.append(Place("the logs", "\n".join(logged)))
        rows = self.gw.rows_since(self.mark)
        places.append(Place("the audit rows", "\n".join(str(v) for row in rows for v in row.values())))
        return places

    async def check(
        self,
        secrets: Iterable[Secret],
        *,
        carriers: Iterable[str] = (),
        allowed_5xx: Iterable[int] = (),
    ) -> None:
        """The end of every attack: no 5xx for bad input, and no value in any place."""
        allowed = tuple(allowed_5xx)
        for reply in self.replies:
            assert_no_5xx(reply.status, "the caller's answer", allowed)
        for status in self.sdk_statuses:
            assert_no_5xx(status, "the SDK's answer", allowed)
        assert_no_leak(await self.places(), secrets, carriers)

    async def database_bytes(self) -> Place:
        """The audit database's files, byte for byte (free pages and the write-ahead log included)."""
        await self.gw.flush()
        files = [self.gw.db_path, self.gw.db_path.with_name(self.gw.db_path.name + "-wal")]
        data = b"".join(f.read_bytes() for f in files if f.exists())
        return Place("the audit database file", data.decode("latin-1"))

    async def records(self) -> list[dict[str, Any]]:
        await self.gw.flush()
        return self.gw.rows_since(self.mark)


@pytest_asyncio.fixture(loop_scope="module")
async def attack(
    gw: AttackGateway, upstream: ScriptedUpstream, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Attack]:
    upstream.reset()
    caplog.set_level(logging.DEBUG)
    await gw.flush()
    yield Attack(gw, upstream, caplog, gw.max_row_id())
    upstream.reset()


def sse(*events: Any, done: bool = True) -> list[bytes]:
    """OpenAI SSE frames for the given events (dicts become ``data:`` JSON; bytes are sent as they are)."""
    frames = [e if isinstance(e, bytes) else b"data: " + orjson.dumps(e) + b"\n\n" for e in events]
    if done:
        frames.append(b"data: [DONE]\n\n")
    return frames


def ndjson(*lines: Any) -> list[bytes]:
    return [orjson.dumps(line) + b"\n" for line in lines]


SSE_HEADERS = {"Content-Type": "text/event-stream"}
NDJSON_HEADERS = {"Content-Type": "application/x-ndjson"}


def chunk(
    content: str | list[dict[str, Any]] | None = None, *, index: Any = 0, finish: str | None = None, **delta: Any
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` with one choice; ``content`` a string or, as some servers stream it, parts."""
    d: dict[str, Any] = dict(delta)
    if content is not None:
        d["content"] = content
    choice: dict[str, Any] = {"delta": d, "finish_reason": finish}
    if index is not _ABSENT:
        choice["index"] = index
    return {
        "id": "chatcmpl-x",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": OPENAI_MODEL,
        "choices": [choice],
    }


_ABSENT = object()
ABSENT = _ABSENT


def report_path() -> str | None:
    return os.environ.get("CLEARANCE_ATTACK_REPORT")


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    """For ``scripts/attack-report``: one line per attack with its outcome and the failure's type."""
    path = report_path()
    if path is None or (call.when != "call" and call.excinfo is None):
        return
    kind = "passed" if call.excinfo is None else call.excinfo.type.__name__
    if call.when != "call":
        kind = f"{call.when}:{kind}"
    with open(path, "a", encoding="utf-8") as out:
        out.write(orjson.dumps({"id": item.nodeid, "outcome": kind}).decode() + "\n")


def chat(content: Any, **extra: Any) -> dict[str, Any]:
    return {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": content}], **extra}

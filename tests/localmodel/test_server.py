from __future__ import annotations

import asyncio
import json
import math
import socket
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from clearance.exceptions import LocalModelError
from clearance.localmodel.provision import LocalModelPaths, provision
from clearance.localmodel.server import (
    LocalModelServer,
    ServerSettings,
    free_loopback_port,
    require_loopback,
    server_command,
)
from clearance.localmodel.spec import MODEL_ALIAS

TIMEOUT = aiohttp.ClientTimeout(total=120)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1"])
def test_when_host_is_loopback_then_accepted(host: str) -> None:
    require_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "localhost", "example.com"])
def test_when_host_is_not_a_loopback_address_then_refused(host: str) -> None:
    with pytest.raises(LocalModelError, match="only listens on a loopback address"):
        require_loopback(host)


async def test_when_asked_for_a_public_address_then_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    paths = LocalModelPaths(
        server_binary=tmp_path / "does-not-exist",
        model_file=tmp_path / "model.gguf",
        log_dir=tmp_path / "logs",
    )
    with pytest.raises(LocalModelError, match="loopback"):
        async with LocalModelServer.start(paths, ServerSettings(host="0.0.0.0")):
            pytest.fail("started on a public address")
    assert not (tmp_path / "logs").exists()


def test_free_loopback_port_is_bindable() -> None:
    port = free_loopback_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_command_serves_chat_and_embeddings_on_one_thread_under_the_alias(tmp_path: Path) -> None:
    paths = LocalModelPaths(tmp_path / "llama-server", tmp_path / "m.gguf", tmp_path)
    argv = server_command(paths, ServerSettings(), 8123)
    pairs = dict(zip(argv[1:], [*argv[2:], ""], strict=True))
    assert argv[0] == str(paths.server_binary)
    assert pairs["--model"] == str(paths.model_file)
    assert pairs["--alias"] == MODEL_ALIAS
    assert pairs["--host"] == "127.0.0.1"
    assert pairs["--port"] == "8123"
    assert pairs["--threads"] == "1"
    assert pairs["--pooling"] == "mean"
    assert "--embeddings" in argv
    # An embedding input must fit in one physical batch: as large as a slot's context.
    assert pairs["--ubatch-size"] == pairs["--batch-size"] == str(4096 // 2)


# --- against the real server (llama-server + SmolLM2-135M-Instruct) ---------------------------


async def post_json(url: str, body: dict[str, Any]) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
        session.post(url, json=body) as response,
    ):
        assert response.status == 200, await response.text()
        result: dict[str, Any] = await response.json()
        return result


def chat_body(**extra: Any) -> dict[str, Any]:
    return {
        "model": MODEL_ALIAS,
        "messages": [{"role": "user", "content": "Name three colours."}],
        "max_tokens": 24,
        "temperature": 0,
        **extra,
    }


@pytest.mark.realmodel
async def test_when_running_then_models_lists_the_alias(local_model: LocalModelServer) -> None:
    assert local_model.base_url == f"http://127.0.0.1:{local_model.port}/v1"
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
        session.get(f"{local_model.base_url}/models") as response,
    ):
        assert response.status == 200
        ids = [m["id"] for m in (await response.json())["data"]]
    assert local_model.model in ids


@pytest.mark.realmodel
async def test_when_chatting_then_a_real_completion_comes_back(
    local_model: LocalModelServer,
) -> None:
    reply = await post_json(f"{local_model.base_url}/chat/completions", chat_body())
    message = reply["choices"][0]["message"]
    assert message["role"] == "assistant"
    assert isinstance(message["content"], str)
    assert message["content"].strip()
    assert 0 < reply["usage"]["completion_tokens"] <= 24
    assert reply["usage"]["prompt_tokens"] > 0


@pytest.mark.realmodel
async def test_when_streaming_then_sse_chunks_end_with_done(local_model: LocalModelServer) -> None:
    body = chat_body(stream=True, stream_options={"include_usage": True})
    events: list[str] = []
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as session,
        session.post(f"{local_model.base_url}/chat/completions", json=body) as response,
    ):
        assert response.status == 200
        assert response.content_type == "text/event-stream"
        async for raw in response.content:
            line = raw.decode().strip()
            if line:
                assert line.startswith("data: "), line
                events.append(line.removeprefix("data: "))
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert len(chunks) > 2  # really streamed, not one blob
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    text = "".join(choice["delta"].get("content") or "" for chunk in chunks for choice in chunk["choices"])
    assert text.strip()
    assert any(chunk.get("usage") for chunk in chunks)


@pytest.mark.realmodel
async def test_when_completing_a_prompt_then_text_comes_back(local_model: LocalModelServer) -> None:
    reply = await post_json(
        f"{local_model.base_url}/completions",
        {"model": MODEL_ALIAS, "prompt": "The sky is", "max_tokens": 8, "temperature": 0},
    )
    assert reply["choices"][0]["text"].strip()


@pytest.mark.realmodel
async def test_when_embedding_then_vectors_are_consistent_and_meaningful(
    local_model: LocalModelServer,
) -> None:
    inputs = ["The cat sat on the mat.", "Quarterly revenue grew by four percent.", "x"]
    reply = await post_json(f"{local_model.base_url}/embeddings", {"model": MODEL_ALIAS, "input": inputs})
    vectors = [item["embedding"] for item in sorted(reply["data"], key=lambda d: d["index"])]
    assert len(vectors) == len(inputs)
    sizes = {len(v) for v in vectors}
    assert len(sizes) == 1
    assert sizes.pop() > 0
    assert all(math.fsum(abs(x) for x in v) > 0 for v in vectors)
    assert vectors[0] != vectors[1]
    again = await post_json(f"{local_model.base_url}/embeddings", {"model": MODEL_ALIAS, "input": inputs[0]})
    assert again["data"][0]["embedding"] == pytest.approx(vectors[0], abs=1e-4)


@pytest.mark.realmodel
async def test_when_embedding_a_long_input_that_fits_the_context_then_it_works(
    local_model: LocalModelServer,
) -> None:
    # About 1100 tokens: over llama-server's default physical batch of 512, under a slot's 2048.
    text = " ".join(f"word{i}" for i in range(300))
    reply = await post_json(f"{local_model.base_url}/embeddings", {"model": MODEL_ALIAS, "input": text})
    assert reply["usage"]["prompt_tokens"] > 512
    assert len(reply["data"][0]["embedding"]) > 0


@pytest.mark.realmodel
async def test_when_context_exits_then_server_is_stopped_and_port_closed(tmp_path: Path) -> None:
    paths = await asyncio.to_thread(provision)
    async with LocalModelServer.start(paths) as server:
        assert server.startup_seconds > 0
        port = server.port
    assert server.process.returncode is not None
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


@pytest.mark.realmodel
async def test_when_model_file_is_not_a_model_then_start_fails_with_the_log_tail(
    tmp_path: Path,
) -> None:
    real = await asyncio.to_thread(provision)
    bogus = tmp_path / "broken.gguf"
    bogus.write_bytes(b"this is not a model")
    paths = LocalModelPaths(server_binary=real.server_binary, model_file=bogus, log_dir=tmp_path)
    with pytest.raises(LocalModelError) as caught:
        async with LocalModelServer.start(paths, ServerSettings(ready_timeout=60)):
            pytest.fail("started with a broken model")
    message = caught.value.message
    assert "llama-server exited" in message
    assert str(tmp_path) in message  # names its log file
    assert "broken.gguf" in message  # and shows what the server said

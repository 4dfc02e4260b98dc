"""Where an attack's text goes in a request: one builder per endpoint shape, named for test ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.attacks.conftest import OLLAMA_MODEL, OPENAI_MODEL

Builder = Callable[[str], tuple[str, dict[str, Any]]]


def chat(text: str) -> tuple[str, dict[str, Any]]:
    return "/v1/chat/completions", {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": text}]}


def chat_parts(text: str) -> tuple[str, dict[str, Any]]:
    content = [{"type": "text", "text": text}]
    return "/v1/chat/completions", {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": content}]}


def completion(text: str) -> tuple[str, dict[str, Any]]:
    return "/v1/completions", {"model": OPENAI_MODEL, "prompt": text}


def embedding(text: str) -> tuple[str, dict[str, Any]]:
    return "/v1/embeddings", {"model": OPENAI_MODEL, "input": [text]}


def responses(text: str) -> tuple[str, dict[str, Any]]:
    return "/v1/responses", {"model": OPENAI_MODEL, "input": text}


def ollama_chat(text: str) -> tuple[str, dict[str, Any]]:
    return "/api/chat", {"model": OLLAMA_MODEL, "messages": [{"role": "user", "content": text}], "stream": False}


def ollama_generate(text: str) -> tuple[str, dict[str, Any]]:
    return "/api/generate", {"model": OLLAMA_MODEL, "prompt": text, "stream": False}


SHAPES: dict[str, Builder] = {
    "chat": chat,
    "chat_parts": chat_parts,
    "completion": completion,
    "embedding": embedding,
    "responses": responses,
    "ollama_chat": ollama_chat,
    "ollama_generate": ollama_generate,
}

"""The endpoints the gateway serves. Anything not listed here is refused: there is no blind pass-through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ApiFlavour = Literal["openai", "ollama"]
Operation = Literal["chat", "completion", "embedding", "response", "generate"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One POST route of the model API.

    ``path`` is what callers use; ``upstream_path`` is the same operation on an upstream of the same flavour
    (appended to an OpenAI upstream's ``base_url`` or an Ollama upstream's root). ``stream_default`` is what a
    request means when it says nothing about streaming (Ollama streams unless told not to).
    """

    name: str
    path: str
    flavour: ApiFlavour
    operation: Operation
    upstream_path: str
    stream_default: bool = False
    streamable: bool = True


OPENAI_CHAT = Endpoint("chat.completions", "/v1/chat/completions", "openai", "chat", "/chat/completions")
OPENAI_COMPLETIONS = Endpoint("completions", "/v1/completions", "openai", "completion", "/completions")
OPENAI_EMBEDDINGS = Endpoint("embeddings", "/v1/embeddings", "openai", "embedding", "/embeddings", streamable=False)
OPENAI_RESPONSES = Endpoint("responses", "/v1/responses", "openai", "response", "/responses")
OLLAMA_CHAT = Endpoint("ollama.chat", "/api/chat", "ollama", "chat", "/api/chat", stream_default=True)
OLLAMA_GENERATE = Endpoint(
    "ollama.generate", "/api/generate", "ollama", "generate", "/api/generate", stream_default=True
)
OLLAMA_EMBED = Endpoint("ollama.embed", "/api/embed", "ollama", "embedding", "/api/embed", streamable=False)

MODEL_ENDPOINTS: tuple[Endpoint, ...] = (
    OPENAI_CHAT,
    OPENAI_COMPLETIONS,
    OPENAI_EMBEDDINGS,
    OPENAI_RESPONSES,
    OLLAMA_CHAT,
    OLLAMA_GENERATE,
    OLLAMA_EMBED,
)

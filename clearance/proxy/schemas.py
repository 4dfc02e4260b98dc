"""Request shapes, validated before anything reaches an upstream.

The models only check the fields the gateway relies on (and reject wrong types precisely); every other field is
kept and forwarded as the caller sent it, so new API parameters work without a gateway release.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr
from pydantic import ValidationError as PydanticValidationError

from clearance.endpoints import Endpoint
from clearance.exceptions import InvalidRequest


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Message(_Open):
    role: StrictStr
    content: StrictStr | list[dict[str, Any]] | None = None


class StreamOptions(_Open):
    include_usage: StrictBool | None = None


class _ModelRequest(_Open):
    model: Annotated[StrictStr, Field(min_length=1)]
    stream: StrictBool | None = None


class ChatRequest(_ModelRequest):
    messages: Annotated[list[Message], Field(min_length=1)]
    stream_options: StreamOptions | None = None


TokenIds = list[StrictInt]
PromptInput = StrictStr | list[StrictStr] | TokenIds | list[TokenIds]


class CompletionRequest(_ModelRequest):
    prompt: PromptInput
    stream_options: StreamOptions | None = None


class EmbeddingRequest(_ModelRequest):
    input: PromptInput


class ResponsesRequest(_ModelRequest):
    input: StrictStr | list[dict[str, Any]]
    instructions: StrictStr | None = None


class OllamaOptions(_Open):
    temperature: StrictFloat | StrictInt | None = None
    num_predict: StrictInt | None = None


class OllamaChatRequest(_ModelRequest):
    messages: list[Message]
    options: OllamaOptions | None = None


class OllamaGenerateRequest(_ModelRequest):
    prompt: StrictStr = ""
    system: StrictStr | None = None
    raw: StrictBool = False
    options: OllamaOptions | None = None


class OllamaEmbedRequest(_ModelRequest):
    input: StrictStr | list[StrictStr]


_SCHEMAS: dict[str, type[_ModelRequest]] = {
    "chat.completions": ChatRequest,
    "completions": CompletionRequest,
    "embeddings": EmbeddingRequest,
    "responses": ResponsesRequest,
    "ollama.chat": OllamaChatRequest,
    "ollama.generate": OllamaGenerateRequest,
    "ollama.embed": OllamaEmbedRequest,
}


@dataclass(frozen=True, slots=True)
class Asked:
    """What validation tells the later stages: the model asked for, and whether the caller asked for a stream."""

    model: str
    stream: bool | None
    """None when the body does not say (the endpoint's default applies); an explicit null is False."""


def validate_request(endpoint: Endpoint, body: Any) -> Asked:
    """What the body asks for; ``InvalidRequest`` listing every problem with it, each with its field path."""
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    try:
        valid = _SCHEMAS[endpoint.name].model_validate(body)
        return Asked(valid.model, bool(valid.stream) if "stream" in valid.model_fields_set else None)
    except PydanticValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False, include_input=False):
            path = ".".join(str(p) for p in err["loc"])
            problems.append(f"{path}: {err['msg']}")
        first = exc.errors()[0]["loc"]
        raise InvalidRequest(
            "invalid request: " + "; ".join(problems[:10]),
            param=".".join(str(p) for p in first) or None,
        ) from None

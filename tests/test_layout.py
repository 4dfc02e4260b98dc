"""Tests mirror the code (STYLE.md, "tests mirror the code"; mitmproxy's ``test/filename_matching.py``).

Every module ``clearance/<path>/<name>.py`` has ``tests/<path>/test_<name>.py``, or is listed in ``COVERED_BY``
with the test file that covers it. Every test file mirrors a module, covers one (a ``COVERED_BY`` value), lies in
a ``SUITES`` folder, or is listed in ``CROSS_CUTTING`` with what it tests. A package ``__init__.py`` (mirrored by
``test_init.py``) needs a test only when it defines something (a function or a class), not when it re-exports.

Moving or adding a module: move or add its test, or edit the tables below (they are plain data, one line each).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import clearance

PACKAGE = Path(clearance.__file__).parent
ROOT = PACKAGE.parent
TESTS = ROOT / "tests"

COVERED_BY: dict[str, str] = {
    # module (relative to the repository; a folder ending in "/" covers every module under it): the test covering it
    "clearance/__main__.py": "tests/test_main.py",
    "clearance/cli/__init__.py": "tests/test_main.py",
    "clearance/cli/config_cmd.py": "tests/test_config.py",
    "clearance/policy/__init__.py": "tests/policy/test_load.py",
    "clearance/models.py": "tests/policy/test_evaluate.py",
    "clearance/db/migrations/": "tests/db/test_migrate.py",
    "clearance/detect/base.py": "tests/detect/test_registry.py",
    "clearance/detect/context_rule.py": "tests/detect/test_factory.py",
    "clearance/detect/document.py": "tests/detect/test_prefilter.py",
    "clearance/proxy/upstream.py": "tests/proxy/test_errors.py",
    "clearance/testing/fake_upstream.py": "tests/proxy/test_openai_api.py",
    "clearance/console/testing.py": "tests/console/test_access.py",
    "clearance/limits/scripts.py": "tests/limits/test_limiter.py",
}

SUITES: dict[str, str] = {
    # a folder of tests that do not mirror modules: what it holds
    "tests/attacks": "the attack suite: each test an attack through a real gateway",
    "tests/e2e": "end to end: the real local model; the console in headless Chromium (tests/e2e/console); many "
    "instances behind HAProxy (test_cluster.py)",
    "tests/bench": "the benchmarks' own tests (they mirror bench/, not clearance/)",
    "tests/deploy": "the deployment files: the Containerfile (and its image, built), deploy/kubernetes, the release",
    "tests/oidc": "the real OpenID provider the auth tests run against",
}

CROSS_CUTTING: dict[str, str] = {
    # a test file that mirrors no module: what it tests across modules
    "tests/test_layers.py": "arrows between packages point down",
    "tests/test_layout.py": "tests mirror the code",
    "tests/audit/test_no_raw_values.py": "ids, model names and labels never reach logs or records raw",
    "tests/audit/test_never_lose.py": "records survive a SIGKILL of a real gateway under load",
    "tests/auth/test_gateway_auth.py": "authentication through the gateway",
    "tests/limits/test_gateway.py": "rate limits through the gateway: two instances, the SDK's 429, Redis down",
    "tests/detect/test_decoded_heldout.py": "decoded views against a held-out corpus",
    "tests/mask/test_events_properties.py": "streamed answers split anywhere, per stream shape (hypothesis)",
    "tests/mask/test_fail_closed.py": "a detector or masking failure refuses, never forwards",
    "tests/mask/test_gateway_fuzz.py": "random answers through the gateway, half streamed",
    "tests/mask/test_gateway_masking.py": "masking of requests and answers through the gateway",
    "tests/mask/test_properties.py": "masking properties (hypothesis)",
    "tests/mask/test_request_fuzz.py": "random requests per endpoint shape through the gateway",
    "tests/mask/test_restore.py": "placeholders restored in answers for callers allowed",
    "tests/mask/test_stream_disguises.py": "disguised values split across stream events",
    "tests/policy/test_examples.py": "every '# check:' line of examples/policies",
    "tests/policy/test_gateway_policy.py": "policy decisions through the gateway",
    "tests/policy/test_scheme_agreement.py": "the gateway, scan/classify and the CLI agree on levels",
    "tests/proxy/test_headers.py": "the X-Clearance-* headers and relayed headers",
    "tests/proxy/test_ollama_api.py": "the Ollama API through the gateway",
    "tests/proxy/test_redteam_requests.py": "a red team's requests through the gateway",
    "tests/proxy/test_request_structure.py": "what a request's structure hides is refused or masked",
}


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def defines_something(init: Path) -> bool:
    tree = ast.parse(init.read_text())
    return any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) for n in tree.body)


def modules() -> list[Path]:
    """Every module that needs a test: all but a package ``__init__.py`` that defines nothing."""
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or defines_something(p))


def mirror(module: Path) -> Path:
    """``clearance/proxy/routing.py`` -> ``tests/proxy/test_routing.py``; ``clearance/db/__init__.py`` ->
    ``tests/db/test_init.py``."""
    inside = module.relative_to(PACKAGE)
    name = "init.py" if inside.name == "__init__.py" else inside.name
    return TESTS / inside.parent / f"test_{name}"


def covering(module: Path) -> str | None:
    """The ``COVERED_BY`` entry for ``module``: its own line, or a folder above it."""
    name = rel(module)
    if name in COVERED_BY:
        return COVERED_BY[name]
    folders = [key for key in COVERED_BY if key.endswith("/") and name.startswith(key)]
    return COVERED_BY[max(folders, key=len)] if folders else None


def files_of_tests() -> list[Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if "node_modules" not in p.parts)


def in_suite(test: Path) -> bool:
    return any(rel(test).startswith(suite + "/") for suite in SUITES)


@pytest.mark.parametrize("module", modules(), ids=rel)
def test_every_module_has_a_mirroring_test_or_a_named_covering_one(module: Path) -> None:
    if mirror(module).is_file():
        return
    covered_by = covering(module)
    assert covered_by is not None, f"add {rel(mirror(module))}, or list {rel(module)} in COVERED_BY"
    assert (ROOT / covered_by).is_file(), f"{rel(module)} is listed as covered by {covered_by}, which does not exist"


def test_every_test_file_mirrors_a_module_or_says_what_it_tests() -> None:
    mirrored = {mirror(m) for m in PACKAGE.rglob("*.py")}  # a package's own test may exist without being required
    named = {ROOT / t for t in COVERED_BY.values()} | {ROOT / t for t in CROSS_CUTTING}
    stray = [rel(t) for t in files_of_tests() if t not in mirrored and t not in named and not in_suite(t)]
    assert stray == [], f"{stray}: each mirrors no module: name it after its module, or list it in CROSS_CUTTING"


def test_the_tables_name_only_what_exists() -> None:
    missing_modules = [m for m in COVERED_BY if not (ROOT / m).exists()]
    missing_tests = [t for t in CROSS_CUTTING if not (ROOT / t).is_file()]
    missing_suites = [s for s in SUITES if not (ROOT / s).is_dir()]
    assert (missing_modules, missing_tests, missing_suites) == ([], [], [])


def test_a_listing_is_needed_only_where_no_mirror_exists() -> None:
    """A module that has its mirror and is listed too makes the table lie about why it is there."""
    assert [m for m in COVERED_BY if not m.endswith("/") and mirror(ROOT / m).is_file()] == []
    mirrored = {mirror(m) for m in modules()}
    assert [t for t in CROSS_CUTTING if ROOT / t in mirrored] == []


def test_the_check_catches_a_module_without_a_test(tmp_path: Path) -> None:
    module = PACKAGE / "proxy" / "brand_new.py"
    assert not mirror(module).exists()
    assert covering(module) is None
    assert mirror(PACKAGE / "detect" / "builtin" / "card.py") == TESTS / "detect" / "builtin" / "test_card.py"
    assert mirror(PACKAGE / "db" / "__init__.py") == TESTS / "db" / "test_init.py"
    assert covering(PACKAGE / "db" / "migrations" / "versions" / "0009_new.py") == "tests/db/test_migrate.py"
    stub = tmp_path / "__init__.py"
    stub.write_text('"""Re-exports only."""\n\nfrom clearance.models import Finding\n\n__all__ = ["Finding"]\n')
    assert not defines_something(stub)
    stub.write_text("def build() -> None: ...\n")
    assert defines_something(stub)

"""The Containerfile's own invariants, read from the file (fast; tests/deploy/test_container_image.py builds it).

Both stages stand on the ``BASE_IMAGE`` argument, which defaults to the official Python slim image; the runtime
stage runs as a fixed non-root user, copies only the builder's environment, probes a path the app really serves,
and writes no secret in its environment; the build context leaves out extensions compiled on the host.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.deploy.invariants import CONFIG_PATH, SECRET_NAME, get_routes, looks_secret

ROOT = Path(__file__).resolve().parents[2]

Instruction = tuple[str, str]


def instructions(text: str) -> list[Instruction]:
    """(KEYWORD, arguments) per instruction: comments dropped, continued lines joined."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    out = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def stages(parsed: list[Instruction]) -> list[list[Instruction]]:
    found: list[list[Instruction]] = []
    for keyword, rest in parsed:
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, rest))
    return found


PARSED = instructions((ROOT / "Containerfile").read_text())
BUILDER, RUNTIME = stages(PARSED)


def last(stage: list[Instruction], keyword: str) -> str:
    values = [rest for k, rest in stage if k == keyword]
    assert values, f"no {keyword}"
    return values[-1]


def test_both_stages_stand_on_the_base_image_argument() -> None:
    before = PARSED[: next(i for i, (k, _) in enumerate(PARSED) if k == "FROM")]
    assert ("ARG", "BASE_IMAGE=python:3.11-slim-bookworm") in before
    assert last(BUILDER, "FROM") == "${BASE_IMAGE} AS builder"
    assert last(RUNTIME, "FROM") == "${BASE_IMAGE}"


def test_the_runtime_runs_as_a_fixed_non_root_user() -> None:
    user = last(RUNTIME, "USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0, "USER must be numeric (runAsNonRoot can only check a number)"
    assert gid.isdigit() and int(gid) != 0


def test_the_runtime_takes_only_the_builders_environment_and_no_compiler() -> None:
    copies = [rest for k, rest in RUNTIME if k == "COPY"]
    assert copies == ["--from=builder /opt/clearance /opt/clearance"]
    runs = " ".join(rest for k, rest in RUNTIME if k == "RUN")
    assert "apt-get" not in runs and "pip" not in runs
    assert "mypyc" in (ROOT / "setup.py").read_text()  # what the builder's wheel build compiles


def test_the_healthcheck_asks_a_real_route_on_the_exposed_port(tmp_path: Path) -> None:
    healthcheck = last(RUNTIME, "HEALTHCHECK")
    test = json.loads(healthcheck[healthcheck.index("CMD") + 3 :])
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", " ".join(test))
    assert url is not None, test
    assert url.group(2) in get_routes(tmp_path)
    assert url.group(1) == last(RUNTIME, "EXPOSE")
    command = json.loads(last(RUNTIME, "CMD"))
    assert command[command.index("--port") + 1] == url.group(1)
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert command[command.index("--config") + 1] == CONFIG_PATH
    assert json.loads(last(RUNTIME, "ENTRYPOINT")) == ["clearance"]


def test_no_secret_is_written_in_the_image() -> None:
    for keyword, rest in PARSED:
        if keyword in ("ENV", "ARG"):
            for name, _, value in (pair.partition("=") for pair in rest.split()):
                assert not SECRET_NAME.search(name), f"{keyword} {name} looks like a secret"
                assert not looks_secret(name, value), f"{keyword} {name}"


def test_the_root_filesystem_can_be_read_only() -> None:
    env = dict(pair.partition("=")[::2] for k, rest in RUNTIME if k == "ENV" for pair in rest.split())
    writable = ("/tmp", "/var/lib/clearance")
    for name in ("HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "TMPDIR"):
        assert env[name].startswith(writable), name
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert last(RUNTIME, "WORKDIR") == "/var/lib/clearance"


def test_the_build_context_leaves_out_what_the_host_compiled() -> None:
    ignored = (ROOT / ".containerignore").read_text().splitlines()
    assert "*" in ignored and "**/*.so" in ignored
    assert "!clearance" in ignored

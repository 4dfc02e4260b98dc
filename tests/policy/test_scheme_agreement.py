"""One classification scheme: the gateway, ``clearance scan``, ``clearance policy test`` and the Python API give
every type the same level and every request the same decision, for built-in types, for a custom detector's
``level:`` and for a type declared in ``detection.levels.types``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from typer.testing import CliRunner

from clearance.app import create_app
from clearance.cli import app as cli
from clearance.config import load_config, parse_config
from clearance.detect.scanner import Scanner
from clearance.exceptions import ConfigError
from clearance.policy import load_policy
from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory

POLICY = """\
version: 1
clearances: [{anonymous: true, level: restricted}]
models: [{name: internal-model, max_level: internal}]
"""
DETECTION = {
    "custom": [
        {"name": "codenames", "type": "PROJECT", "keywords": ["bluebird"], "level": "internal"},
        {"name": "employees", "type": "EMPLOYEE_ID", "regex": "EMP-[0-9]{6}"},
        {"name": "tickets", "type": "TICKET_ID", "regex": "TCK-[0-9]{6}"},
    ],
    "levels": {"types": {"EMPLOYEE_ID": "public"}},
}
CASES = [
    # text, level, decision for a model that may receive up to internal
    ("project bluebird ships", "internal", "allow"),  # a custom detector's level: internal
    ("ask EMP-123456", "public", "allow"),  # declared in detection.levels.types
    ("see TCK-123456", "restricted", "mask"),  # declared nowhere: the policy's unlisted level
    ("mail jane.doe@acme-corp.io", "confidential", "mask"),  # built-in, at its catalogue level
    ("card 4111 1111 1111 1111", "restricted", "mask"),  # built-in
    ("nothing to see", "public", "allow"),
]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    config = tmp_path / "clearance.yaml"
    config.write_text(yaml.safe_dump({"detection": DETECTION, "policy": {"file": str(policy)}}))
    return config, policy


def _cli(*args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.output


async def test_when_gateway_cli_and_api_classify_the_same_text_then_they_agree(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, files: tuple[Path, Path]
) -> None:
    config, policy_file = files
    gw = await make_gateway(
        [{"name": "fake", "base_url": fake_upstream.base_url, "models": ["internal-model"]}],
        detection=DETECTION,
        policy={"file": str(policy_file)},
    )
    api = Scanner.from_config(load_config(config), levels=load_policy(policy_file).scheme)
    for text, level, action in CASES:
        body = {"model": "internal-model", "messages": [{"role": "user", "content": text}]}
        async with aiohttp.ClientSession() as s, s.post(gw.base_url + "/chat/completions", json=body) as r:
            assert r.status == 200, (text, await r.text())
            gateway = (r.headers["X-Clearance-Level"], r.headers["X-Clearance-Decision"])
        scanned = json.loads(_cli("scan", "-", "--json", "--config", str(config), input=text))["level"]
        tested = dict(
            line.split(":", 1)
            for line in _cli(
                "policy", "test", str(policy_file), text, "--model", "internal-model", "--config", str(config)
            ).splitlines()
            if ":" in line
        )
        assert gateway == (level, action), text
        assert (tested["level"].strip(), tested["decision"].strip()) == (level, action), text
        assert scanned == level == api.classify(text).level, text


def test_when_scan_is_given_a_policy_then_its_levels_apply(files: tuple[Path, Path], tmp_path: Path) -> None:
    config, _ = files
    other = tmp_path / "other.yaml"
    other.write_text("version: 1\ntypes: {PROJECT: internal, TICKET_ID: confidential}\n")
    out = json.loads(_cli("scan", "-", "--json", "--config", str(config), "--policy", str(other), input="TCK-123456"))
    assert out["level"] == "confidential"


def test_when_no_policy_is_given_then_the_api_uses_the_default_policys_levels_and_the_declared_ones() -> None:
    text = "bluebird TCK-123456 jane.doe@acme-corp.io"
    scanner = Scanner.from_config(parse_config({"detection": DETECTION}))
    assert [(f.type, scanner.levels.level_of(f.type)) for f in scanner.scan(text)] == [
        ("PROJECT", "internal"),
        ("TICKET_ID", "restricted"),
        ("EMAIL_ADDRESS", "confidential"),
    ]


@pytest.mark.parametrize(
    ("detection", "path"),
    [
        ({"custom": [{"name": "codes", "type": "CODE", "keywords": ["atlas"], "level": "secret"}]},
         "detection.custom.0.level"),
        ({"levels": {"types": {"CODE": "top-secret"}}}, "detection.levels.types.CODE"),
    ],
)  # fmt: skip
def test_when_a_declared_level_is_not_on_the_policys_scale_then_the_gateway_and_the_cli_refuse_to_load(
    tmp_path: Path, files: tuple[Path, Path], detection: dict[str, Any], path: str
) -> None:
    _, policy_file = files
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump({"detection": detection, "policy": {"file": str(policy_file)}}))
    with pytest.raises(ConfigError) as info:
        create_app(load_config(config))
    assert [p for p, _ in info.value.errors] == [path]
    assert "not on the policy's scale: use one of public, internal, confidential, restricted" in info.value.errors[0][1]
    result = CliRunner().invoke(cli, ["scan", "-", "--config", str(config)], input="x")
    assert result.exit_code == 2
    assert path in result.output
    result = CliRunner().invoke(cli, ["policy", "test", str(policy_file), "x", "--model", "m", "--config", str(config)])
    assert result.exit_code == 1
    assert path in result.output


@pytest.mark.parametrize(
    "detection",
    [
        {"levels": {"types": {"CREDIT_CARD": "public"}}},
        {"custom": [{"name": "cards", "type": "CREDIT_CARD", "regex": "CARD-[0-9]{4}", "level": "public"}]},
    ],
)
def test_when_a_config_declares_a_built_in_type_below_the_policys_level_then_the_gateway_refuses_to_load(
    tmp_path: Path, detection: dict[str, Any]
) -> None:
    # The policy's levels are bare names: it lists no built-in type, so a card is at its unlisted level
    # (restricted). A gateway configuration must not lower it: only the policy says where a card sits.
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("version: 1\nlevels: [public, internal, confidential, restricted]\n")
    config = tmp_path / "lower.yaml"
    config.write_text(yaml.safe_dump({"detection": detection, "policy": {"file": str(policy_file)}}))
    with pytest.raises(ConfigError) as info:
        create_app(load_config(config))
    assert "CREDIT_CARD" in info.value.errors[0][1]
    result = CliRunner().invoke(cli, ["scan", "-", "--config", str(config)], input="4111 1111 1111 1111")
    assert result.exit_code == 2

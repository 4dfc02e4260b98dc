from __future__ import annotations

import random
import string

import pytest
import re2

from clearance.detect.builtin.tokens import TOKEN_SPECS, PrefixedTokenDetector, prefix_trigger
from tests.detect.helpers import values

_RNG = random.Random(7)
_ALNUM = string.ascii_letters + string.digits


def _random(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


SAMPLES = {
    "aws_access_key": "AKIA" + _random(16, string.ascii_uppercase + "234567"),
    "github_token": "ghp_" + _random(36),
    "github_pat": "github_pat_" + _random(82, _ALNUM + "_"),
    "gitlab_token": "glpat-" + _random(20),
    "slack_token": f"xoxb-{_random(11, string.digits)}-{_random(24)}",
    "slack_webhook": "https://hooks.slack.com/services/"
    f"T{_random(8, string.ascii_uppercase)}/B{_random(8, string.ascii_uppercase)}/{_random(24)}",
    "stripe_key": "sk_live_" + _random(24),
    "stripe_webhook_secret": "whsec_" + _random(32),
    "anthropic_key": "sk-ant-api03-" + _random(93),
    "openai_key": "sk-proj-" + _random(48),
    "google_api_key": "AIza" + _random(35),
    "npm_token": "npm_" + _random(36),
    "huggingface_token": "hf_" + _random(34, string.ascii_letters),
    "sendgrid_key": f"SG.{_random(22)}.{_random(43)}",
}  # fmt: skip

DETECTORS = {spec.name: PrefixedTokenDetector(spec) for spec in TOKEN_SPECS}


def test_every_token_kind_has_a_sample() -> None:
    assert set(SAMPLES) == set(DETECTORS)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_when_a_vendor_token_is_present_then_its_detector_finds_it(name: str) -> None:
    text = f'config = {{"token": "{SAMPLES[name]}"}}'
    assert values(DETECTORS[name], text) == [SAMPLES[name]]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_when_the_trigger_is_compiled_then_it_matches_the_token(name: str) -> None:
    trigger = re2.compile(prefix_trigger(DETECTORS[name].spec.pattern))
    assert trigger.search(SAMPLES[name]) is not None


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("aws_access_key", "AKIAIOSFODNN7EXAMPLE"),  # AWS's documentation key
        ("aws_access_key", "xAKIA" + "ABCDEFGHIJKLMNOP"),  # glued
        ("openai_key", "sk-learn-tutorial-for-beginners-2024"),  # words, not a key
        ("openai_key", "sk-" + "aB3d" * 12),  # repetitive, low entropy
        ("openai_key", "sk-ant-api03-" + "x" * 93),  # Anthropic's prefix is not OpenAI's
        ("github_token", "ghp_" + "a" * 36),
        ("stripe_key", "pk_live_" + "a1B2c3D4e5F6g7H8i9J0"),  # publishable keys are public
    ],
)
def test_when_a_string_only_looks_like_a_token_then_it_is_not_reported(name: str, text: str) -> None:
    assert values(DETECTORS[name], text) == []


def test_when_a_pattern_has_a_large_counted_repetition_then_the_trigger_clamps_it() -> None:
    assert prefix_trigger(r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}") == r"SG\.[A-Za-z0-9_\-]{8}"
    assert prefix_trigger("abc") == "abc"

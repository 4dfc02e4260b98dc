from __future__ import annotations

import random
import string

import pytest
import re2

from clearance.detect.builtin.tokens import TOKEN_SPECS, PrefixedTokenDetector, prefix_trigger
from tests.detect.helpers import values

_RNG = random.Random(7)
_ALNUM = string.ascii_letters + string.digits
_HEX = "0123456789abcdef"
_UPPER_DIGITS = string.ascii_uppercase + string.digits


def _random(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


_UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

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
    "gitlab_runner_registration": "GR1348941" + _random(20),
    "slack_workflow_webhook": "https://hooks.slack.com/workflows/" + _random(48),
    "huggingface_org_token": "api_org_" + _random(34, string.ascii_letters),
    "onepassword_secret_key": "A3-" + "-".join(_random(n, _UPPER_DIGITS) for n in (6, 11, 5, 5, 5)),
    "onepassword_service_token": "ops_eyJ" + _random(300, _ALNUM + "+/"),
    "adobe_client_secret": "p8e-" + _random(32),
    "age_secret_key": "AGE-SECRET-KEY-1" + _random(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"),
    "alibaba_access_key": "LTAI" + _random(20),
    "artifactory_api_key": "AKCp" + _random(69),
    "artifactory_reference_token": "cmVmd" + _random(59),
    "atlassian_api_token": "ATATT3" + _random(186),
    "azure_ad_client_secret": _random(3) + "8Q~" + _random(34),
    "clickhouse_api_secret": "4b1d" + _random(38),
    "clojars_token": "CLOJARS_" + _random(60),
    "cloudflare_origin_ca_key": f"v1.0-{_random(24, _HEX)}-{_random(146, _HEX)}",
    "databricks_token": "dapi" + _random(32, _HEX),
    "defined_networking_token": f"dnkey-{_random(26)}-{_random(52)}",
    "digitalocean_token": "dop_v1_" + _random(64, _HEX),
    "discord_bot_token": f"M{_random(23)}.{_random(6)}.{_random(27)}",
    "doppler_token": "dp.pt." + _random(43),
    "duffel_token": "duffel_live_" + _random(43),
    "dynatrace_token": f"dt0c01.{_random(24)}.{_random(64)}",
    "easypost_token": "EZAK" + _random(54),
    "facebook_access_token": "EAAC" + _random(120),
    "facebook_app_token": _random(15, string.digits) + "|" + _random(32),
    "flutterwave_secret_key": "FLWSECK_TEST-" + _random(32, "abcdefgh0123456789") + "-X",
    "flyio_token": "fo1_" + _random(43),
    "frameio_token": "fio-u-" + _random(64),
    "grafana_api_key": "eyJrIjoi" + _random(80),
    "grafana_cloud_token": "glc_" + _random(48),
    "grafana_service_account_token": f"glsa_{_random(32)}_{_random(8, _HEX)}",
    "harness_token": f"pat.{_random(22)}.{_random(24)}.{_random(20)}",
    "terraform_cloud_token": f"{_random(14)}.atlasv1.{_random(64)}",
    "heroku_api_key": "HRKU-AA" + _random(58),
    "infracost_token": "ico-" + _random(32),
    "intra42_client_secret": "s-s4t2ud-" + _random(64, _HEX),
    "linear_api_key": "lin_api_" + _random(40),
    "mailchimp_key": _random(32, _HEX) + "-us14",
    "mailgun_key": "key-" + _random(32, _HEX),
    "maxmind_license_key": f"{_random(6)}_{_random(29)}_mmk",
    "teams_webhook": f"https://acme.webhook.office.com/webhookb2/{_UUID}@{_UUID}/IncomingWebhook/"
    f"{_random(32, _HEX)}/{_UUID}",
    "newrelic_key": "NRAK-" + _random(27, _UPPER_DIGITS),
    "notion_token": "ntn_" + _random(11, string.digits) + _random(35),
    "octopus_deploy_key": "API-" + _random(26, _UPPER_DIGITS),
    "openshift_token": "sha256~" + _random(43),
    "perplexity_key": "pplx-" + _random(48),
    "plaid_token": "access-sandbox-" + _UUID,
    "planetscale_token": "pscale_tkn_" + _random(43),
    "postman_key": f"PMAK-{_random(24, _HEX)}-{_random(34, _HEX)}",
    "prefect_token": "pnu_" + _random(36),
    "pulumi_token": "pul-" + _random(40, _HEX),
    "pypi_token": "pypi-AgEIcHlwaS5vcmc" + _random(70),
    "readme_key": "rdme_" + _random(70, string.ascii_lowercase + string.digits),
    "rubygems_key": "rubygems_" + _random(48, _HEX),
    "scalingo_token": "tk-us-" + _random(48),
    "sendinblue_key": f"xkeysib-{_random(64, _HEX)}-{_random(16)}",
    "sentry_token": "sntryu_" + _random(64, _HEX),
    "settlemint_token": "sm_pat_" + _random(16),
    "shippo_token": "shippo_live_" + _random(40, _HEX),
    "shopify_token": "shpat_" + _random(32, _HEX),
    "sourcegraph_token": "sgp_" + _random(40, _HEX),
    "square_token": "sq0atp-" + _random(22),
    "telegram_bot_token": _random(10, string.digits) + ":AA" + _random(33),
    "twilio_api_key": "SK" + _random(32, _HEX),
    "twitter_bearer_token": "A" * 22 + _random(90),
    "typeform_token": "tfp_" + _random(59),
    "vault_token": "hvs." + _random(95),
    "yandex_api_key": "AQVN" + _random(36),
    "yandex_access_token": f"t1.{_random(40)}.{_random(86)}",
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
    trigger = re2.compile(DETECTORS[name].triggers[0])
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

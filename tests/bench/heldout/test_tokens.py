"""Vendor credentials have their issuers' shapes (as gitleaks' default rules describe them)."""

from __future__ import annotations

import base64
import json
import random
import re

import pytest

from bench.heldout import tokens

SHAPES = {
    "GITHUB_TOKEN": r"(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})",
    "GITLAB_TOKEN": r"glpat-[\w-]{20}",
    "SLACK_BOT_TOKEN": r"(xoxb-\d{10,13}-\d{10,13}-[A-Za-z0-9]{24}|xoxp-\d+-\d+-\d+-[a-f0-9]{32}|"
    r"xapp-1-A[A-Z0-9]+-\d+-[a-f0-9]{64})",
    "STRIPE_SECRET_KEY": r"((sk|rk)_live_[A-Za-z0-9]{24,99}|whsec_[A-Za-z0-9]{32})",
    "OPENAI_API_KEY": r"sk-(proj-|svcacct-|admin-)?[\w-]{20,74}T3BlbkFJ[\w-]{20,74}",
    "ANTHROPIC_API_KEY": r"sk-ant-api03-[\w-]{93}AA",
    "GOOGLE_MAPS_API_KEY": r"AIza[\w-]{35}",
    "NPM_TOKEN": r"npm_[A-Za-z0-9]{36}",
    "HF_TOKEN": r"hf_[A-Za-z]{34}",
    "SENDGRID_API_KEY": r"SG\.[\w-]{22}\.[\w-]{43}",
    "AWS_ACCESS_KEY_ID": r"(AKIA|ASIA)[A-Z2-7]{16}",
    "AWS_SECRET_ACCESS_KEY": r"[A-Za-z0-9+/]{40}",
    "AUTH_TOKEN": r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+",
    "TWILIO_API_KEY_SECRET": r"SK[0-9a-f]{32}",
    "MAILGUN_API_KEY": r"key-[0-9a-f]{32}",
    "SHOPIFY_ACCESS_TOKEN": r"shp(at|ca|pa|ss)_[a-f0-9]{32}",
    "PYPI_TOKEN": r"pypi-AgEIcHlwaS5vcmc[\w-]{50,}",
    "DATABRICKS_TOKEN": r"dapi[a-f0-9]{32}(-\d)?",
    "DIGITALOCEAN_TOKEN": r"do[op]_v1_[a-f0-9]{64}",
    "HEROKU_API_KEY": r"HRKU-AA[\w-]{58}",
    "SQUARE_ACCESS_TOKEN": r"(EAAA[\w-]{60}|sq0atp-[\w-]{22})",
    "DISCORD_BOT_TOKEN": r"[MNO][A-Za-z0-9]{23,27}\.[\w-]{6}\.[\w-]{38}",
    "TELEGRAM_BOT_TOKEN": r"\d{9,10}:AA[\w-]{33}",
    "JIRA_API_TOKEN": r"ATATT3[\w=-]{186}",
    "DOPPLER_TOKEN": r"dp\.pt\.[A-Za-z0-9]{43}",
    "LINEAR_API_KEY": r"lin_api_[A-Za-z0-9]{40}",
    "POSTMAN_API_KEY": r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}",
    "PULUMI_ACCESS_TOKEN": r"pul-[a-f0-9]{40}",
    "TFE_TOKEN": r"[a-z0-9]{14}\.atlasv1\.[a-z0-9_-]{60,70}",
    "VAULT_TOKEN": r"hvs\.[\w-]{90,120}",
    "GRAFANA_SA_TOKEN": r"glsa_[A-Za-z0-9]{32}_[a-f0-9]{8}",
    "NEW_RELIC_API_KEY": r"NRAK-[A-Z0-9]{27}",
    "SENTRY_AUTH_TOKEN": r"sntryu_[a-f0-9]{64}",
    "DOCKERHUB_TOKEN": r"dckr_pat_[\w-]{27}",
}
VENDORS = tokens.CATALOGUE_VENDORS + tokens.OTHER_VENDORS


def test_every_vendor_has_a_shape_under_test() -> None:
    assert {v.variable for v in VENDORS} == set(SHAPES)


@pytest.mark.parametrize("vendor", VENDORS, ids=lambda v: v.variable)
def test_tokens_have_their_vendors_shape(vendor: tokens.Vendor) -> None:
    for seed in range(40):
        assert re.fullmatch(SHAPES[vendor.variable], vendor.make(random.Random(seed)))


def test_vendors_outside_the_catalogue_are_api_keys() -> None:
    assert {v.type for v in tokens.OTHER_VENDORS} == {"API_KEY"}
    assert len(tokens.OTHER_VENDORS) >= 20


def test_github_classic_tokens_carry_their_crc32_check() -> None:
    import zlib

    for seed in range(50):
        token = tokens.github(random.Random(seed))
        if token.startswith("github_pat_"):
            continue
        body, check = token[4:34], token[34:]
        crc, value = zlib.crc32(body.encode()), 0
        for ch in check:
            value = value * 62 + tokens.B62.index(ch)
        assert value == crc


def test_jwts_decode_to_a_header_with_an_algorithm() -> None:
    for seed in range(30):
        head, payload, _ = tokens.jwt(random.Random(seed)).split(".")
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        assert header["alg"] in ("HS256", "RS256", "ES256")
        assert "exp" in json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_private_keys_are_whole_pem_blocks() -> None:
    labels = set()
    for seed in range(40):
        key = tokens.private_key(random.Random(seed))
        match = re.fullmatch(r"-----BEGIN ([A-Z ]+)-----\n([A-Za-z0-9+/=\n]+)\n-----END \1-----", key)
        assert match
        labels.add(match.group(1))
        base64.b64decode(match.group(2).replace("\n", ""))
    assert labels == {"RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"}


def test_generic_draws_never_give_an_aws_secret_without_context() -> None:
    assert all(tokens.vendor(random.Random(s)).type != "AWS_SECRET_KEY" for s in range(500))

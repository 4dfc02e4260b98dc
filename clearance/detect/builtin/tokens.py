"""Vendor credentials with a recognisable prefix: cloud keys, code-host, chat, payment and AI API tokens.

Each kind is one ``TokenSpec`` (a type name, a pattern that starts with the vendor's literal prefix, and for
prefixes that ordinary words can share, a randomness check) and one ``PrefixedTokenDetector``, so each runs only
when its own prefix is in the text. A token must not be glued to more token characters on either side, and
vendors' documentation values (``AKIAIOSFODNN7EXAMPLE``) are not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from clearance.detect.base import Detector, Document
from clearance.detect.checksums import shannon_entropy
from clearance.models import Finding

_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


@dataclass(frozen=True, slots=True)
class TokenSpec:
    """``pattern`` is RE2- and Python-compatible and is also the detector's trigger."""

    name: str
    type: str
    pattern: str
    prefix_len: int = 0
    """Characters of the match that are the vendor's fixed prefix (excluded from the randomness check)."""
    min_entropy: float = 0.0
    mixed: bool = False
    """The random part must hold upper case, lower case and digits (for prefixes that words share)."""
    exclude: tuple[str, ...] = ()
    """The match must not start with any of these (a more specific vendor's prefix)."""
    score: float = 0.95
    trigger: str = ""
    """The RE2 trigger, when ``prefix_trigger(pattern)`` cannot serve (the fixed part is not at the start, or the
    first counted repetition sits in a group)."""


def _vendor(name: str, pattern: str, prefix_len: int, min_entropy: float = 3.0, **kwargs: Any) -> TokenSpec:
    """A vendor's token without a catalogue type of its own: reported as ``API_KEY`` under the vendor's name."""
    return TokenSpec(name, "API_KEY", pattern, prefix_len=prefix_len, min_entropy=min_entropy, **kwargs)


TOKEN_SPECS: tuple[TokenSpec, ...] = (
    TokenSpec(
        "aws_access_key",
        "AWS_ACCESS_KEY",
        r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA)[A-Z2-7]{16}",
        prefix_len=4,
        min_entropy=2.5,
    ),
    TokenSpec(
        "github_token",
        "GITHUB_TOKEN",
        r"gh[pousr]_[A-Za-z0-9]{36,251}",
        prefix_len=4,
        min_entropy=3.0,
    ),
    TokenSpec(
        "github_pat",
        "GITHUB_TOKEN",
        r"github_pat_[A-Za-z0-9_]{50,255}",
        prefix_len=11,
        min_entropy=3.0,
    ),
    TokenSpec(
        "gitlab_token",
        "GITLAB_TOKEN",
        r"(?:glpat|gldt|glrt|glptt|glft|glsoat|glcbt|gloas|glimt|glagent|glffct)-[A-Za-z0-9_\-.]{20,300}",
        prefix_len=6,
        min_entropy=3.0,
    ),
    TokenSpec(
        "slack_token",
        "SLACK_TOKEN",
        r"(?:xox[abposre]|xapp)-[A-Za-z0-9\-]{10,250}",
        prefix_len=5,
        min_entropy=3.0,
    ),
    TokenSpec(
        "slack_webhook",
        "SLACK_WEBHOOK",
        r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32}",
    ),
    TokenSpec("stripe_key", "STRIPE_KEY", r"(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{16,247}", prefix_len=8),
    TokenSpec("stripe_webhook_secret", "STRIPE_KEY", r"whsec_[A-Za-z0-9]{32,64}", prefix_len=6),
    TokenSpec(
        "anthropic_key",
        "ANTHROPIC_API_KEY",
        r"sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_\-]{80,120}",
        prefix_len=14,
        min_entropy=3.5,
    ),
    TokenSpec(
        "openai_key",
        "OPENAI_API_KEY",
        r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,200}",
        prefix_len=3,
        min_entropy=3.5,
        mixed=True,
        exclude=("sk-ant-",),
    ),
    TokenSpec("google_api_key", "GOOGLE_API_KEY", r"AIza[0-9A-Za-z_\-]{35}", prefix_len=4, min_entropy=3.0),
    TokenSpec("npm_token", "NPM_TOKEN", r"npm_[A-Za-z0-9]{36}", prefix_len=4, min_entropy=3.0),
    TokenSpec("huggingface_token", "HUGGINGFACE_TOKEN", r"hf_[A-Za-z]{34}", prefix_len=3, min_entropy=3.0),
    # SG.<key id>.<secret>: 22 and 43 characters in keys issued today; shorter and longer parts in older and
    # rotated keys, so the parts' lengths are read loosely and the randomness checked instead.
    TokenSpec(
        "sendgrid_key",
        "SENDGRID_API_KEY",
        r"SG\.[A-Za-z0-9_\-]{10,40}\.[A-Za-z0-9_\-=]{20,80}",
        prefix_len=3,
        min_entropy=3.0,
        mixed=True,
    ),
    TokenSpec("gitlab_runner_registration", "GITLAB_TOKEN", r"GR1348941[A-Za-z0-9_\-]{20,64}", prefix_len=9),
    TokenSpec(
        "slack_workflow_webhook",
        "SLACK_WEBHOOK",
        r"https://hooks\.slack\.com/(?:workflows|triggers)/[A-Za-z0-9+/]{43,56}",
        trigger=r"hooks\.slack\.com/(?:workflows|triggers)/",
    ),
    TokenSpec("huggingface_org_token", "HUGGINGFACE_TOKEN", r"api_org_[A-Za-z]{34}", prefix_len=8, min_entropy=3.0),
    # Vendors without a catalogue type: API_KEY, under the vendor's name (gitleaks' and detect-secrets' shapes).
    _vendor(
        "onepassword_secret_key",
        r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}",
        3,
    ),
    _vendor("onepassword_service_token", r"ops_eyJ[A-Za-z0-9+/]{250,1000}={0,3}", 4, 4.0),
    _vendor("adobe_client_secret", r"p8e-[A-Za-z0-9]{32}", 4),
    _vendor("age_secret_key", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", 16),
    _vendor("alibaba_access_key", r"LTAI[A-Za-z0-9]{20}", 4, mixed=True),
    _vendor("artifactory_api_key", r"AKCp[A-Za-z0-9]{69}", 4, 4.0),
    _vendor("artifactory_reference_token", r"cmVmd[A-Za-z0-9]{59}", 5, 4.0),
    _vendor("atlassian_api_token", r"ATATT3[A-Za-z0-9_\-=]{186}", 6, 3.5),
    _vendor(
        "azure_ad_client_secret",
        r"[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}",
        0,
        trigger=r"[0-9]Q~[A-Za-z0-9_~.\-]{8}",
    ),
    _vendor("clickhouse_api_secret", r"4b1d[A-Za-z0-9]{38}", 4, mixed=True),
    _vendor("clojars_token", r"CLOJARS_[A-Za-z0-9]{60}", 8),
    _vendor("cloudflare_origin_ca_key", r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}", 5),
    _vendor("databricks_token", r"dapi[a-f0-9]{32}(?:-[0-9])?", 4),
    _vendor("defined_networking_token", r"dnkey-[A-Za-z0-9=_\-]{26}-[A-Za-z0-9=_\-]{52}", 6),
    _vendor("digitalocean_token", r"do[opr]_v1_[a-f0-9]{64}", 7),
    _vendor(
        "discord_bot_token",
        r"[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}",
        0,
        mixed=True,
        trigger=r"\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{8}",
    ),
    _vendor("doppler_token", r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}", 6),
    _vendor("duffel_token", r"duffel_(?:test|live)_[A-Za-z0-9_\-=]{43}", 12),
    _vendor("dynatrace_token", r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}", 7, 3.5),
    _vendor("easypost_token", r"EZ[AT]K[A-Za-z0-9]{54}", 4),
    _vendor("facebook_access_token", r"EAA[MC][A-Za-z0-9]{100,400}", 4, 3.5),
    _vendor("facebook_app_token", r"[0-9]{15,16}\|[0-9A-Za-z_\-]{27,40}", 17, trigger=r"[0-9]{8}\|[0-9A-Za-z_\-]{8}"),
    _vendor("flutterwave_secret_key", r"FLWSECK(?:_TEST)?-[a-h0-9]{12,32}(?:-X)?", 8),
    _vendor(
        "flyio_token",
        r"(?:fo1_[A-Za-z0-9_\-]{43}|fm1[ar]_[A-Za-z0-9+/]{100,1000}={0,3}|fm2_[A-Za-z0-9+/]{100,1000}={0,3})",
        4,
        3.5,
        trigger=r"(?:fo1|fm1[ar]|fm2)_[A-Za-z0-9_+/\-]{8}",
    ),
    _vendor("frameio_token", r"fio-u-[A-Za-z0-9\-_=]{64}", 6),
    _vendor("grafana_api_key", r"eyJrIjoi[A-Za-z0-9]{70,400}={0,3}", 8),
    _vendor("grafana_cloud_token", r"glc_[A-Za-z0-9+/]{32,400}={0,3}", 4),
    _vendor("grafana_service_account_token", r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}", 5),
    _vendor(
        "harness_token",
        r"(?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}",
        4,
        trigger=r"(?:pat|sat)\.[A-Za-z0-9_\-]{8}",
    ),
    _vendor(
        "terraform_cloud_token", r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9\-_=]{60,70}", 0, 3.5, trigger=r"\.atlasv1\."
    ),
    _vendor("heroku_api_key", r"HRKU-AA[A-Za-z0-9_\-]{58}", 7),
    _vendor("infracost_token", r"ico-[A-Za-z0-9]{32}", 4),
    _vendor("intra42_client_secret", r"s-s4t2(?:ud|af)-[a-f0-9]{64}", 9),
    _vendor("linear_api_key", r"lin_api_[A-Za-z0-9]{40}", 8),
    _vendor("mailchimp_key", r"[0-9a-f]{32}-us[0-9]{1,2}", 0, trigger=r"[0-9a-f]{4}-us[0-9]"),
    _vendor("mailgun_key", r"key-[a-f0-9]{32}", 4),
    _vendor("maxmind_license_key", r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk", 0, trigger=r"_mmk"),
    _vendor(
        "teams_webhook",
        r"https://[a-z0-9]+\.webhook\.office\.com/webhookb2/[a-z0-9\-]{36}@[a-z0-9\-]{36}/IncomingWebhook/"
        r"[a-z0-9]{32}/[a-z0-9\-]{36}",
        0,
        0.0,
        trigger=r"\.webhook\.office\.com/webhookb2/",
    ),
    _vendor("newrelic_key", r"NR(?:AK|II|JS)-[A-Za-z0-9\-]{19,32}", 5),
    _vendor("notion_token", r"ntn_[0-9]{11}[A-Za-z0-9]{35}", 4),
    _vendor("octopus_deploy_key", r"API-[A-Z0-9]{26}", 4),
    _vendor("openshift_token", r"sha256~[A-Za-z0-9_\-]{43}", 7),
    _vendor("perplexity_key", r"pplx-[A-Za-z0-9]{48}", 5),
    _vendor(
        "plaid_token",
        r"access-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
        r"[0-9a-f]{4}-[0-9a-f]{12}",
        15,
    ),
    _vendor("planetscale_token", r"pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_=.\-]{32,64}", 11),
    _vendor("postman_key", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}", 5),
    _vendor("prefect_token", r"pnu_[A-Za-z0-9]{36}", 4),
    _vendor("pulumi_token", r"pul-[a-f0-9]{40}", 4),
    _vendor("pypi_token", r"pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{50,1000}", 8),
    _vendor("readme_key", r"rdme_[a-z0-9]{70}", 5),
    _vendor("rubygems_key", r"rubygems_[a-f0-9]{48}", 9),
    _vendor("scalingo_token", r"tk-us-[A-Za-z0-9_\-]{48}", 6),
    _vendor("sendinblue_key", r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}", 8),
    _vendor("sentry_token", r"sntry[us]_[A-Za-z0-9+/=_]{64,600}", 7),
    _vendor("settlemint_token", r"sm_(?:aat|pat|sat)_[A-Za-z0-9]{16}", 7),
    _vendor("shippo_token", r"shippo_(?:live|test)_[a-fA-F0-9]{40}", 12),
    _vendor("shopify_token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", 6),
    _vendor("sourcegraph_token", r"sgp_(?:(?:[a-fA-F0-9]{16}|local)_)?[a-fA-F0-9]{40}", 4, trigger=r"sgp_"),
    _vendor(
        "square_token",
        r"(?:EAAA|sq0atp-|sq0csp-)[A-Za-z0-9_\-]{22,60}",
        4,
        3.5,
        trigger=r"(?:EAAA|sq0atp-|sq0csp-)[A-Za-z0-9_\-]{8}",
    ),
    _vendor("telegram_bot_token", r"[0-9]{5,16}:A[A-Za-z0-9_\-]{34}", 0, trigger=r"[0-9]{5}:A[A-Za-z0-9_\-]{8}"),
    _vendor("twilio_api_key", r"SK[0-9a-fA-F]{32}", 2),
    _vendor("twitter_bearer_token", r"A{22}[A-Za-z0-9%]{80,100}", 22, 3.5, trigger="AAAAAAAAAAAAAAAAAAAAAA"),
    _vendor("typeform_token", r"tfp_[A-Za-z0-9\-_.=]{59}", 4),
    _vendor("vault_token", r"hv[sbr]\.[A-Za-z0-9_\-]{90,300}", 4, 3.5),
    _vendor("yandex_api_key", r"AQVN[A-Za-z0-9_\-]{35,38}", 4),
    _vendor(
        "yandex_access_token",
        r"t1\.[A-Za-z0-9_\-]{10,200}={0,2}\.[A-Za-z0-9_\-]{86}={0,2}",
        3,
        trigger=r"t1\.[A-Za-z0-9_\-]{8}",
    ),
)


_QUANTIFIER = re.compile(r"\{(\d+)(?:,\d*)?\}")


def prefix_trigger(pattern: str) -> str:
    """The pattern cut after its first counted repetition, clamped to at most 8: it matches wherever the pattern
    does, and large counted repetitions (which blow up RE2's automaton) stay out of the trigger pass. Patterns
    here put their first counted repetition outside any group."""
    match = _QUANTIFIER.search(pattern)
    if match is None:
        return pattern
    return f"{pattern[: match.start()]}{{{min(int(match.group(1)), 8)}}}"


class PrefixedTokenDetector(Detector):
    """Finds one vendor's tokens, described by a ``TokenSpec``."""

    def __init__(self, spec: TokenSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.types = frozenset({spec.type})
        self.triggers = (spec.trigger or prefix_trigger(spec.pattern),)
        self._pattern = re.compile(spec.pattern, re.ASCII)

    def find(self, doc: Document) -> Iterator[Finding]:
        text = doc.text
        spec = self.spec
        for match in self._pattern.finditer(text):
            start, end = match.span()
            if (start > 0 and text[start - 1] in _TOKEN_CHARS) or (end < len(text) and text[end] in _TOKEN_CHARS):
                continue
            token = match.group()
            if (spec.exclude and token.startswith(spec.exclude)) or "EXAMPLE" in token.upper():
                continue
            body = token[spec.prefix_len :]
            if spec.min_entropy and shannon_entropy(body) < spec.min_entropy:
                continue
            if spec.mixed and not (
                any(c.isupper() for c in body) and any(c.islower() for c in body) and any(c.isdigit() for c in body)
            ):
                continue
            yield Finding(start, end, spec.type, spec.score, spec.name)

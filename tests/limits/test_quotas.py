"""Which limits apply to an identity and a model, and how their keys are named."""

from __future__ import annotations

from clearance.limits.config import LimitsConfig, RateSpec
from clearance.limits.quotas import identity_tag, merged, quotas_for
from clearance.models import Identity

CONFIG = LimitsConfig(
    key_prefix="p:",
    defaults=RateSpec(requests_per_minute=60, tokens_per_minute=1000),
    models={"big": RateSpec(requests_per_minute=3)},
)
ADA = Identity("ada", email="ada@example.com", issuer="https://idp.example")


def test_the_policy_replaces_defaults_limit_by_limit() -> None:
    own = merged(RateSpec(requests_per_minute=20), CONFIG.defaults)
    assert own == RateSpec(requests_per_minute=20, tokens_per_minute=1000)
    assert merged(None, CONFIG.defaults) == CONFIG.defaults


def test_a_model_with_limits_adds_its_own_quota() -> None:
    [own] = quotas_for(CONFIG, None, ADA, "small")
    assert (own.scope, own.spec) == ("identity", CONFIG.defaults)
    own, model = quotas_for(CONFIG, None, ADA, "big")
    assert (model.scope, model.model, model.spec) == ("model", "big", RateSpec(requests_per_minute=3))
    assert model.key != own.key


def test_no_limit_anywhere_means_no_quota() -> None:
    assert quotas_for(LimitsConfig(models=CONFIG.models), None, ADA, "small") == ()


def test_keys_hold_no_subject_or_email_and_share_one_hash_tag() -> None:
    quotas = quotas_for(CONFIG, None, ADA, "big")
    for quota in quotas:
        assert "ada" not in quota.key and "example" not in quota.key
        assert quota.key.startswith(f"p:{{{identity_tag(ADA)}}}:")


def test_each_api_key_is_counted_on_its_own() -> None:
    one = Identity("bot", kind="service", key_id="k1")
    two = Identity("bot", kind="service", key_id="k2")
    assert identity_tag(one) != identity_tag(two)
    assert identity_tag(Identity("ada", issuer="a")) != identity_tag(Identity("ada", issuer="b"))

"""The built-in classification: the default levels, which entity types belong to each, and how each is masked.

A policy file may replace all of this; a type it lists nowhere is put at the highest level (fail safe: a new
custom detector is treated as restricted until someone says otherwise).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from clearance.models import OperatorName

FINANCIAL_TYPES: Final = ("CREDIT_CARD", "US_SSN", "US_BANK_NUMBER", "ABA_ROUTING_NUMBER", "IBAN_CODE")
"""Cards and account numbers: masked with ``partial`` so a human can still say "the card ending 1234"."""

SECRET_TYPES: Final = (
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "SLACK_TOKEN",
    "STRIPE_KEY",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GOOGLE_API_KEY",
    "HUGGINGFACE_TOKEN",
    "NPM_TOKEN",
    "SENDGRID_API_KEY",
    "SLACK_WEBHOOK",
    "JWT",
    "PRIVATE_KEY",
    "API_KEY",
    "PASSWORD",
    "CONNECTION_STRING",
)
"""Credentials: masked with ``redact``, nothing of them kept."""

PERSONAL_TYPES: Final = ("EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS", "PERSON")
"""Personal data: masked with ``placeholder`` so the model can still tell one person from another."""

DEFAULT_LEVELS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("public", ()),
    ("internal", ()),
    ("confidential", PERSONAL_TYPES),
    ("restricted", FINANCIAL_TYPES + SECRET_TYPES),
)
"""Lowest first: each level's name and the built-in types in it."""

DEFAULT_OPERATORS: Final[MappingProxyType[str, OperatorName]] = MappingProxyType(
    {
        **dict.fromkeys(FINANCIAL_TYPES, "partial"),
        **dict.fromkeys(SECRET_TYPES, "redact"),
        **dict.fromkeys(PERSONAL_TYPES, "placeholder"),
    }
)
"""How each built-in type is masked unless the policy says otherwise; any other type is redacted."""

FALLBACK_OPERATOR: Final[OperatorName] = "redact"

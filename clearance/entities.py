"""The catalogue of built-in entity types: every other layer reads what a type is from here.

Each ``EntityType`` says its name (Presidio's, so configurations move over), the level it has unless a policy says
otherwise, how it is masked unless a policy says otherwise, whether it is *structured* (its values never begin with
a plain word of letters, so a streamed answer need not hold such a word back for it) and what it is. Detectors
declare their types against this catalogue (``clearance.detect.registry`` refuses a built-in detector reporting a
type not listed here); the default policy, the default masking operators and the stream hold-back are derived from
it. A custom detector's or plug-in's type is not listed: its level comes from the configuration or the policy.

This module sits at the bottom: it imports nothing from Clearance but the type aliases of ``clearance.models``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

from clearance.models import OperatorName

Category = Literal["financial", "secret", "personal"]


@dataclass(frozen=True, slots=True)
class EntityType:
    """One built-in entity type."""

    name: str
    level: str
    """Its level in the default scale (``DEFAULT_SCALE``) unless a policy lists it elsewhere."""
    operator: OperatorName
    """How it is masked unless the policy names another operator."""
    structured: bool
    """Its values never begin with a plain word of letters (a number, a token with a public prefix, a value after
    a keyword): a streamed answer releases a finished word at once when only structured types are masked."""
    category: Category
    description: str
    plugin: str = ""
    """The optional plug-in that finds it (``ner``); empty when a built-in detector does."""


DEFAULT_SCALE: Final = ("public", "internal", "confidential", "restricted")
"""The levels of the default policy, lowest first. A policy file may declare its own."""

UNLISTED_OPERATOR: Final[OperatorName] = "redact"
"""How a type with no operator of its own (a custom detector's) is masked unless the policy says otherwise."""


def _financial(name: str, description: str) -> EntityType:
    # Masked with ``partial`` so a human can still say "the card ending 1234".
    return EntityType(name, "restricted", "partial", True, "financial", description)


def _secret(name: str, description: str) -> EntityType:
    # Credentials: nothing of them is kept.
    return EntityType(name, "restricted", "redact", True, "secret", description)


def _personal(name: str, description: str, *, structured: bool = False, plugin: str = "") -> EntityType:
    # A placeholder lets the model still tell one person from another.
    return EntityType(name, "confidential", "placeholder", structured, "personal", description, plugin)


ENTITY_TYPES: Final[tuple[EntityType, ...]] = (
    _financial("CREDIT_CARD", "a payment card number that passes the Luhn check"),
    _financial("US_SSN", "a US social security number"),
    _financial("US_BANK_NUMBER", "a US bank account number, near words that say so"),
    _financial("ABA_ROUTING_NUMBER", "a US bank routing (ABA) number with a valid checksum"),
    _financial("IBAN_CODE", "an international bank account number with a valid checksum"),
    _secret("AWS_ACCESS_KEY", "an AWS access key id (AKIA…)"),
    _secret("AWS_SECRET_KEY", "an AWS secret access key, near words that say so"),
    _secret("GITHUB_TOKEN", "a GitHub personal access, OAuth or app token"),
    _secret("GITLAB_TOKEN", "a GitLab personal access token"),
    _secret("SLACK_TOKEN", "a Slack bot, user or app token"),
    _secret("SLACK_WEBHOOK", "a Slack incoming-webhook URL"),
    _secret("STRIPE_KEY", "a Stripe secret or restricted key, or a webhook signing secret"),
    _secret("OPENAI_API_KEY", "an OpenAI API key"),
    _secret("ANTHROPIC_API_KEY", "an Anthropic API key"),
    _secret("GOOGLE_API_KEY", "a Google API key (AIza…)"),
    _secret("NPM_TOKEN", "an npm access token"),
    _secret("HUGGINGFACE_TOKEN", "a Hugging Face access token"),
    _secret("SENDGRID_API_KEY", "a SendGrid API key"),
    _secret("JWT", "a JSON Web Token"),
    _secret("PRIVATE_KEY", "a PEM private key block"),
    _secret("CONNECTION_STRING", "a connection string holding a password (detection.connection_strings: whole)"),
    _secret("PASSWORD", "a password: assigned to a password key, after a password word, in a connection string"),
    _secret("API_KEY", "a key or token: assigned to a key name, after a key word, in a URL, a vendor's format"),
    _personal("EMAIL_ADDRESS", "an e-mail address"),
    _personal("PHONE_NUMBER", "a phone number valid for its country", structured=True),
    _personal("IP_ADDRESS", "an IPv4 or IPv6 address"),
    _personal(
        "PERSON", "a person's name where the text says one is there (greeting, header, name field); NER finds more"
    ),
)
"""Every built-in type, by category."""

CATALOGUE: Final[Mapping[str, EntityType]] = MappingProxyType({e.name: e for e in ENTITY_TYPES})
"""The built-in types by name."""

DEFAULT_TYPE_LEVELS: Final[Mapping[str, str]] = MappingProxyType({e.name: e.level for e in ENTITY_TYPES})
"""Each built-in type's default level."""

DEFAULT_OPERATORS: Final[Mapping[str, OperatorName]] = MappingProxyType({e.name: e.operator for e in ENTITY_TYPES})
"""How each built-in type is masked unless the policy says otherwise."""

STRUCTURED_TYPES: Final = frozenset(e.name for e in ENTITY_TYPES if e.structured)
"""The built-in types whose values never begin with a plain word of letters (see ``EntityType.structured``)."""


def default_levels() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The default scale, lowest first: each level's name and the built-in types in it (catalogue order)."""
    return tuple((level, tuple(e.name for e in ENTITY_TYPES if e.level == level)) for level in DEFAULT_SCALE)

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


TOKEN_SPECS: tuple[TokenSpec, ...] = (
    TokenSpec(
        "aws_access_key",
        "AWS_ACCESS_KEY",
        r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA)[A-Z2-7]{16}",
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
        r"(?:glpat|gldt|glrt|glptt|glft|glsoat|glcbt|gloas)-[A-Za-z0-9_\-]{20,64}",
        prefix_len=6,
        min_entropy=3.0,
    ),
    TokenSpec(
        "slack_token",
        "SLACK_TOKEN",
        r"xox[abposre]-[A-Za-z0-9\-]{10,250}",
        prefix_len=5,
        min_entropy=3.0,
    ),
    TokenSpec(
        "slack_webhook",
        "SLACK_WEBHOOK",
        r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32}",
    ),
    TokenSpec("stripe_key", "STRIPE_KEY", r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}", prefix_len=8),
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
    TokenSpec(
        "sendgrid_key",
        "SENDGRID_API_KEY",
        r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}",
        prefix_len=3,
        min_entropy=3.0,
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
        self.triggers = (prefix_trigger(spec.pattern),)
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

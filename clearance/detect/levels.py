"""Classification levels: an ordered scale, a level for every entity type, and a text's classification.

The default scale is ``public < internal < confidential < restricted``. Cards, SSNs, bank numbers, IBANs and
every secret are restricted; e-mail addresses, phone numbers, IP addresses and names are confidential; a type
with no level of its own (a custom detector's, say) gets ``default``. A text's level is the highest level among
its findings, or the lowest level of the scale when nothing was found.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from clearance.models import Finding

DEFAULT_ORDER = ("public", "internal", "confidential", "restricted")

SECRET_TYPES = frozenset(
    {
        "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "GITHUB_TOKEN", "GITLAB_TOKEN", "SLACK_TOKEN", "SLACK_WEBHOOK",
        "STRIPE_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "NPM_TOKEN", "HUGGINGFACE_TOKEN",
        "SENDGRID_API_KEY", "JWT", "PRIVATE_KEY", "CONNECTION_STRING", "PASSWORD", "API_KEY",
    }
)  # fmt: skip

FINANCIAL_TYPES = frozenset({"CREDIT_CARD", "US_SSN", "US_BANK_NUMBER", "ABA_ROUTING_NUMBER", "IBAN_CODE"})
CONTACT_TYPES = frozenset({"EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS", "PERSON"})

DEFAULT_TYPE_LEVELS: Mapping[str, str] = MappingProxyType(
    {
        **{t: "restricted" for t in sorted(SECRET_TYPES | FINANCIAL_TYPES)},
        **{t: "confidential" for t in sorted(CONTACT_TYPES)},
    }
)


@dataclass(frozen=True, eq=False)
class LevelScheme:
    """An ordered scale of levels (lowest first) and the level of each entity type."""

    order: tuple[str, ...] = DEFAULT_ORDER
    type_levels: Mapping[str, str] = field(default_factory=lambda: DEFAULT_TYPE_LEVELS)
    default: str = "confidential"
    _rank: Mapping[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.order or len(set(self.order)) != len(self.order):
            raise ValueError("levels must be a non-empty list of distinct names, lowest first")
        rank = {level: i for i, level in enumerate(self.order)}
        unknown = sorted({self.default, *self.type_levels.values()} - rank.keys())
        if unknown:
            raise ValueError(f"unknown level(s) {', '.join(unknown)}: levels are {', '.join(self.order)}")
        object.__setattr__(self, "type_levels", MappingProxyType(dict(self.type_levels)))
        object.__setattr__(self, "_rank", MappingProxyType(rank))

    @property
    def lowest(self) -> str:
        return self.order[0]

    def rank(self, level: str) -> int:
        """The position of ``level`` on the scale (0 is the lowest). Raises ``KeyError`` for unknown levels."""
        return self._rank[level]

    def level_of(self, type_: str) -> str:
        return self.type_levels.get(type_, self.default)

    def highest(self, findings: Iterable[Finding]) -> str:
        best = 0
        for f in findings:
            best = max(best, self._rank[self.level_of(f.type)])
        return self.order[best]

    def with_types(self, overrides: Mapping[str, str]) -> LevelScheme:
        """A scheme with some types' levels changed."""
        return LevelScheme(self.order, {**self.type_levels, **overrides}, self.default)


@dataclass(frozen=True, slots=True)
class Classification:
    """The level of a text and the findings that set it. Holds no text."""

    level: str
    findings: tuple[Finding, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """Findings per entity type, most frequent first, then by name."""
        counter = Counter(f.type for f in self.findings)
        return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))

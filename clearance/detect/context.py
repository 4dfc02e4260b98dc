"""Context words: nearby words that raise or lower a finding's score (like Google DLP's hotword rules).

A ``ContextRule`` names entity types, words (matched case-insensitively as whole words), a signed ``boost`` and
a window in characters before and after the finding. Each rule counts once per finding, whatever the number of
its words in the window; the score is clamped to [0, 1]. Context is only read around findings, never across
the whole text, so it costs nothing when nothing was found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick

from clearance.detect.base import Document
from clearance.models import Finding


@dataclass(frozen=True, slots=True)
class ContextRule:
    types: frozenset[str]
    words: tuple[str, ...]
    boost: float
    before: int = 48
    after: int = 24


class _CompiledRule:
    """Finds the rule's words in a window of the lower-cased text with an Aho-Corasick automaton."""

    __slots__ = ("after", "automaton", "before", "boost")

    def __init__(self, rule: ContextRule) -> None:
        self.automaton = ahocorasick.Automaton()
        for word in {w.lower() for w in rule.words}:
            self.automaton.add_word(word, len(word))
        self.automaton.make_automaton()
        self.boost = rule.boost
        self.before = rule.before
        self.after = rule.after

    def _in(self, lower: str, a: int, b: int) -> bool:
        if a >= b:
            return False
        n = len(lower)
        for last, length in self.automaton.iter(lower, a, b):
            start, end = last - length + 1, last + 1
            if (start == 0 or not lower[start - 1].isalnum()) and (end >= n or not lower[end].isalnum()):
                return True
        return False

    def matches(self, lower: str, start: int, end: int) -> bool:
        return self._in(lower, max(0, start - self.before), start) or self._in(lower, end, end + self.after)


class ContextScorer:
    """Applies context rules to findings. Immutable after construction."""

    def __init__(self, rules: Iterable[ContextRule]) -> None:
        by_type: dict[str, list[_CompiledRule]] = {}
        for rule in rules:
            if not rule.words:
                continue
            compiled = _CompiledRule(rule)
            for type_ in rule.types:
                by_type.setdefault(type_, []).append(compiled)
        self._rules = {t: tuple(r) for t, r in by_type.items()}

    def score(self, doc: Document, finding: Finding) -> float:
        score = finding.score
        lower = doc.lower
        for rule in self._rules.get(finding.type, ()):
            if rule.matches(lower, finding.start, finding.end):
                score += rule.boost
        return min(1.0, max(0.0, score))

    def apply(self, doc: Document, findings: Sequence[Finding]) -> list[Finding]:
        out: list[Finding] = []
        for finding in findings:
            if finding.type in self._rules:
                score = self.score(doc, finding)
                if score != finding.score:
                    finding = Finding(finding.start, finding.end, finding.type, score, finding.detector)
            out.append(finding)
        return out


_PHONE_NEGATIVE = (
    "order", "order no", "invoice", "ticket", "tracking", "ref", "reference", "serial", "sku", "txn",
    "transaction", "id", "po", "case", "build", "version", "isbn", "item", "confirmation",
)  # fmt: skip

DEFAULT_CONTEXT_RULES: tuple[ContextRule, ...] = (
    ContextRule(
        frozenset({"CREDIT_CARD"}),
        (
            "card",
            "credit",
            "debit",
            "visa",
            "mastercard",
            "amex",
            "american express",
            "discover",
            "cc",
            "ccn",
            "pan",
            "payment",
        ),
        0.1,
    ),
    ContextRule(
        frozenset({"US_SSN"}),
        (
            "ssn",
            "ssns",
            "social security",
            "social security number",
            "ss#",
            "ss #",
            "ssa",
            "taxpayer",
            "tin",
        ),
        0.5,
    ),
    ContextRule(
        frozenset({"ABA_ROUTING_NUMBER"}),
        (
            "routing",
            "routing number",
            "aba",
            "rtn",
            "transit",
            "routing no",
            "bank routing",
            "wire",
        ),
        0.5,
    ),
    ContextRule(
        frozenset({"US_BANK_NUMBER"}),
        (
            "account",
            "acct",
            "a/c",
            "account number",
            "account no",
            "checking",
            "savings",
            "bank account",
            "deposit",
            "beneficiary",
        ),
        0.65,
    ),
    ContextRule(
        frozenset({"PHONE_NUMBER"}),
        (
            "phone",
            "telephone",
            "tel",
            "mobile",
            "cell",
            "call",
            "fax",
            "contact",
            "whatsapp",
            "sms",
            "text me",
            "reach me",
            "dial",
            "landline",
            "hotline",
            "ph",
        ),
        0.3,
    ),
    ContextRule(frozenset({"PHONE_NUMBER"}), _PHONE_NEGATIVE, -0.4, before=20, after=0),
    ContextRule(
        frozenset({"IP_ADDRESS"}),
        (
            "ip",
            "ip address",
            "ipv4",
            "ipv6",
            "host",
            "server",
            "addr",
            "client",
            "remote",
            "gateway",
            "dns",
            "src",
            "dst",
            "source ip",
            "from",
        ),
        0.15,
    ),
    ContextRule(
        frozenset({"IP_ADDRESS"}),
        (
            "version",
            "ver",
            "release",
            "build",
            "firmware",
            "sdk",
            "v",
            "pip",
            "npm",
            "python",
            "node",
            "java",
            "chrome",
            "firefox",
            "safari",
            "upgrade",
            "update",
            "patch",
            "kernel",
        ),
        -0.5,
        before=12,
        after=8,
    ),
    ContextRule(
        frozenset({"AWS_SECRET_KEY"}),
        (
            "aws",
            "secret",
            "secret key",
            "secret access key",
            "aws_secret_access_key",
            "secretaccesskey",
        ),
        0.6,
    ),
)

"""Context words: nearby words that raise or lower a finding's score (like Google DLP's hotword rules).

A ``ContextRule`` names entity types, words (matched case-insensitively as whole words), a signed ``boost`` and
a window in characters before and after the finding. Each rule counts once per finding, whatever the number of
its words in the window; the score is clamped to [0, 1]. Context is only read around findings, never across
the whole text, so it costs nothing when nothing was found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

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
    adjacent: bool = False
    """Only a word before the finding with no digit in between counts: ``account no. 12345678`` but not the
    account number's label two numbers earlier. For types whose only evidence is their label."""


class _CompiledRule:
    """Finds the rule's words in a window of the lower-cased text with an Aho-Corasick automaton."""

    __slots__ = ("adjacent", "after", "automaton", "before", "boost")

    def __init__(self, rule: ContextRule) -> None:
        self.automaton = ahocorasick.Automaton()
        for word in {w.lower() for w in rule.words}:
            self.automaton.add_word(word, len(word))
        self.automaton.make_automaton()
        self.boost = rule.boost
        self.before = rule.before
        self.after = rule.after
        self.adjacent = rule.adjacent

    def _last_word_end(self, lower: str, a: int, b: int) -> int:
        """The end of the last whole word of the rule in ``lower[a:b]``, or -1."""
        found: int = -1
        n = len(lower)
        b = min(b, n)
        if a >= b:
            return found
        # Iterate over a slice: the automaton's iter(text, start, end) costs time in the length of the whole
        # text, which would make context scoring quadratic in a long text with many findings.
        for last, length in self.automaton.iter(lower[a:b]):
            end: int = a + last + 1
            start: int = end - length
            if (start == 0 or not lower[start - 1].isalnum()) and (end >= n or not lower[end].isalnum()):
                found = max(found, end)
                if not self.adjacent:
                    return found
        return found

    def matches(self, lower: str, start: int, end: int) -> bool:
        word_end = self._last_word_end(lower, max(0, start - self.before), start)
        if self.adjacent:
            return word_end >= 0 and not any(ch.isdigit() for ch in lower[word_end:start])
        return word_end >= 0 or self._last_word_end(lower, end, end + self.after) >= 0


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
        by_type = self._rules
        if not any(f.type in by_type for f in findings):
            return list(findings)
        lower = doc.lower
        out: list[Finding] = []
        for finding in findings:
            rules = by_type.get(finding.type)
            if rules is not None:
                score = finding.score
                for rule in rules:
                    if rule.matches(lower, finding.start, finding.end):
                        score += rule.boost
                score = min(1.0, max(0.0, score))
                if score != finding.score:
                    finding = Finding(finding.start, finding.end, finding.type, score, finding.detector)
            out.append(finding)
        return out


def _rule(types: str, words: str, boost: float, **kwargs: Any) -> ContextRule:
    """A rule from space-separated types and comma-separated words (the table below stays readable)."""
    return ContextRule(frozenset(types.split()), tuple(w.strip() for w in words.split(",")), boost, **kwargs)


DEFAULT_CONTEXT_RULES: tuple[ContextRule, ...] = (
    _rule("CREDIT_CARD", "card, credit, debit, visa, mastercard, amex, american express, discover, cc, ccn, pan, "
          "payment", 0.1),
    _rule("US_SSN", "ssn, ssns, social security, social security number, ss#, ss #, ssa, taxpayer, tin", 0.5,
          adjacent=True),
    _rule("ABA_ROUTING_NUMBER", "routing, routing number, aba, rtn, transit, routing no, bank routing, wire", 0.5,
          adjacent=True),
    _rule("US_BANK_NUMBER", "account, acct, a/c, account number, account no, checking, savings, bank account, "
          "deposit, beneficiary", 0.65, adjacent=True),
    _rule("PHONE_NUMBER", "phone, telephone, tel, mobile, cell, call, fax, contact, whatsapp, sms, text me, "
          "reach me, dial, landline, hotline, ph", 0.3),
    _rule("PHONE_NUMBER", "order, order no, invoice, ticket, tracking, ref, reference, serial, sku, txn, "
          "transaction, id, po, case, build, version, isbn, item, confirmation", -0.4, before=20, after=0),
    _rule("IP_ADDRESS", "ip, ip address, ipv4, ipv6, host, server, addr, client, remote, gateway, dns, src, dst, "
          "source ip, from", 0.15),
    _rule("IP_ADDRESS", "version, ver, release, build, firmware, sdk, v, pip, npm, python, node, java, chrome, "
          "firefox, safari, upgrade, update, patch, kernel", -0.5, before=12, after=0),
    _rule("AWS_SECRET_KEY", "aws, secret, secret key, secret access key, aws_secret_access_key, secretaccesskey", 0.6,
          adjacent=True),
)  # fmt: skip

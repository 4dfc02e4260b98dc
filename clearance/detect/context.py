"""Context words: nearby words that raise or lower a finding's score (like Google DLP's hotword rules).

A ``ContextRule`` (a plain value from ``context_rule.py``, re-exported here) names entity types, words (matched
case-insensitively as whole words), a signed ``boost`` and a window in characters before and after the finding.
Each rule counts once per finding, whatever the number of its words in the window; the score is clamped to
[0, 1]. Context is only read around findings, never across the whole text, so it costs nothing when nothing was
found.

A finding's *field label* counts too: the header of the table column it sits in, or the key of its field, in
identifier words (``Document.field_label``: ``acct_no``, ``AccountNumber``, ``Customer Name``). Rules read the
label as if it were written right before the value, ``adjacent`` ones included, so a column headed ``ssn`` lifts
a bare nine-digit number in every row under it, however far below, and a rule counts once whether its word is
in the label, in the window or both. A ``label_only`` rule reads the label and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import ahocorasick

from clearance.detect.base import Document
from clearance.detect.context_rule import ContextRule
from clearance.models import Finding

__all__ = ["DEFAULT_CONTEXT_RULES", "ContextRule", "ContextScorer"]


class _TypeRules:
    """Every rule of one entity type in one Aho-Corasick automaton, read once per finding.

    The automaton runs over one slice of the lower-cased text that covers the widest window of any of the type's
    rules; each whole word found there counts for the rules whose own window holds it. A finding with no rule
    word near it (the common case) costs one slice and one automaton pass whatever the number of rules.
    """

    __slots__ = ("adjacent", "after", "afters", "automaton", "before", "befores", "boosts", "label_only")

    def __init__(self, rules: Sequence[ContextRule]) -> None:
        owners: dict[str, list[int]] = {}
        for index, rule in enumerate(rules):
            for word in {w.lower() for w in rule.words}:
                owners.setdefault(word, []).append(index)
        self.automaton = ahocorasick.Automaton()
        for word, indices in owners.items():
            self.automaton.add_word(word, (len(word), tuple(indices)))
        self.automaton.make_automaton()
        self.boosts = tuple(r.boost for r in rules)
        self.befores = tuple(r.before for r in rules)
        self.afters = tuple(r.after for r in rules)
        self.adjacent = tuple(r.adjacent for r in rules)
        self.label_only = tuple(r.label_only for r in rules)
        self.before = max((r.before for r in rules if not r.label_only), default=0)
        # Only a rule that is not ``adjacent`` and has an ``after`` window counts words after a finding; when no rule
        # of the type does (SSNs, bank numbers), the automaton reads the text before the finding only (-1).
        self.after = max((r.after for r in rules if not (r.adjacent or r.label_only) and r.after > 0), default=-1)

    def score(self, lower: str, start: int, end: int, score: float, label: str = "") -> float:
        """``score`` moved by every rule with a word in its window or in ``label`` (the words of the finding's
        field, read as if right before it), each rule once, clamped to [0, 1]."""
        n = len(lower)
        lo = max(0, start - self.before)
        hi = min(n, end + self.after) if self.after >= 0 else start
        # For each rule: the end of its last whole word before the finding (-1: none), or ``n`` for a word after.
        ends: list[int] | None = None
        # Iterate over a slice: the automaton's iter(text, start, end) costs time in the length of the whole text,
        # which would make context scoring quadratic in a long text with many findings.
        # Each hit is (index of its last character, (word length, the rules that own the word)); typed, so that
        # compiled code unpacks and adds natively.
        hits: Iterator[tuple[int, tuple[int, tuple[int, ...]]]] = self.automaton.iter(lower[lo:hi])
        for last, (length, indices) in hits:
            word_end = lo + last + 1
            word_start = word_end - length
            if (word_start > 0 and lower[word_start - 1].isalnum()) or (word_end < n and lower[word_end].isalnum()):
                continue
            for i in indices:
                if self.label_only[i]:
                    continue
                if word_end <= start:
                    if word_start < start - self.befores[i]:
                        continue
                elif word_start < end or word_end > end + self.afters[i] or self.adjacent[i]:
                    continue
                if ends is None:
                    ends = [-1] * len(self.boosts)
                ends[i] = max(ends[i], word_end if word_end <= start else n)
        if label:
            ends = self._label_hits(label, start, ends)
        if ends is None:
            return score
        for i, word_end in enumerate(ends):
            if word_end < 0:
                continue
            if self.adjacent[i] and any(ch.isdigit() for ch in lower[word_end:start]):
                continue  # a number between the label and the finding: the label is that number's
            score += self.boosts[i]
        return 1.0 if score > 1.0 else (0.0 if score < 0.0 else score)

    def _label_hits(self, label: str, start: int, ends: list[int] | None) -> list[int] | None:
        """``ends`` with each rule that reads before a finding and has a whole word in ``label`` ending at
        ``start``: right before the value, with nothing in between."""
        hits: Iterator[tuple[int, tuple[int, tuple[int, ...]]]] = self.automaton.iter(label)
        n = len(label)
        for last, (length, indices) in hits:
            word_end = last + 1
            word_start = word_end - length
            if (word_start > 0 and label[word_start - 1].isalnum()) or (word_end < n and label[word_end].isalnum()):
                continue
            for i in indices:
                if self.befores[i] <= 0 and not self.label_only[i]:
                    continue
                if ends is None:
                    ends = [-1] * len(self.boosts)
                ends[i] = max(ends[i], start)
        return ends


class ContextScorer:
    """Applies context rules to findings. Immutable after construction."""

    def __init__(self, rules: Iterable[ContextRule]) -> None:
        by_type: dict[str, list[ContextRule]] = {}
        for rule in rules:
            if not rule.words:
                continue
            for type_ in rule.types:
                by_type.setdefault(type_, []).append(rule)
        self._rules = {t: _TypeRules(r) for t, r in by_type.items()}

    def score(self, doc: Document, finding: Finding) -> float:
        rules = self._rules.get(finding.type)
        if rules is None:
            return min(1.0, max(0.0, finding.score))
        label = doc.field_label(finding.start, finding.end)
        return rules.score(doc.lower, finding.start, finding.end, finding.score, label)

    def apply(self, doc: Document, findings: Sequence[Finding]) -> list[Finding]:
        by_type = self._rules
        lower: str | None = None
        out: list[Finding] = []
        for finding in findings:
            rules = by_type.get(finding.type)
            if rules is not None:
                if lower is None:
                    lower = doc.lower
                label = doc.field_label(finding.start, finding.end)
                score = rules.score(lower, finding.start, finding.end, finding.score, label)
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
    # Words that name a card: the evidence a twelve-digit Maestro or a UATP number needs (see builtin/card.py).
    _rule("CREDIT_CARD", "card, card number, card no, card #, cardnumber, card num, maestro, debit card, credit card, "
          "pan, ccn, cc#, cc number, uatp", 0.4),
    _rule("US_SSN", "ssn, ssns, social security, social security number, ss#, ss #, ssa, taxpayer, tin, social, "
          "soc sec, soc. sec., soc-sec, ss no, ss num, ss number, ssn/tin, ssn no, ss-no", 0.5, adjacent=True),
    _rule("ABA_ROUTING_NUMBER", "routing, routing number, aba, rtn, transit, routing no, bank routing, wire", 0.5,
          adjacent=True),
    _rule("US_BANK_NUMBER", "account, acct, a/c, account number, account no, checking, savings, bank account, "
          "deposit, beneficiary", 0.65, adjacent=True),
    _rule("PHONE_NUMBER", "phone, telephone, tel, mobile, cell, call, fax, contact, whatsapp, sms, text me, "
          "reach me, dial, landline, hotline, ph, call back, phonenumber, phoneno, mobilephone, cellphone, "
          "telephonenumber, mobilenumber, "
          # the same words in the languages of the default regions, where national numbers are written; not those
          # that are also common English words (handy, portable, ring, mobil)
          "telefon, telefonnummer, rufnummer, handynummer, erreichen, erreichbar, anrufen, téléphone, joindre, "
          "appeler, teléfono, telefono, móvil, movil, celular, llamar, cellulare, chiamare, telefoon, mobiel, "
          "bellen", 0.3),
    _rule("PHONE_NUMBER", "order, order no, invoice, ticket, tracking, ref, reference, serial, sku, txn, "
          "transaction, id, po, case, build, version, isbn, item, confirmation", -0.4, before=20, after=0),
    _rule("IP_ADDRESS", "ip, ip address, ipv4, ipv6, host, server, addr, client, remote, gateway, dns, src, dst, "
          "source ip, from, node, pod, peer, upstream, backend, endpoint, proxy, cluster, listen, bind", 0.15),
    # Words after which a dotted quad is a version, not an address ("build 10.0.19041.1", "chrome 120.0.6099.71").
    # Not "node": in logs it is a Kubernetes or cluster node with an address far more often than Node.js, whose
    # versions have three parts anyway; "nodejs" and "node.js" stay.
    _rule("IP_ADDRESS", "version, ver, release, build, firmware, sdk, v, pip, npm, python, nodejs, node.js, java, "
          "chrome, firefox, safari, upgrade, update, patch, kernel", -0.5, before=12, after=0),
    # AWS words only: a bare "secret" or "secret key" introduces every vendor's secret (api_secret, Rails'
    # SECRET_KEY_BASE), which the credential detectors report as API keys. An access key id next to the value is
    # evidence too (builtin/aws_secret.py).
    _rule("AWS_SECRET_KEY", "aws, secret access key, secret_access_key, aws_secret_access_key, secretaccesskey", 0.6,
          adjacent=True),
    # "name" and the words of a person count apart: a bare name field (weak, as products have names too) needs both
    _rule("PERSON", "name, names", 0.25),
    _rule("PERSON", "full name, first name, last name, given name, surname, family name, customer, client, contact, "
          "employee, patient, person, owner, assignee, author, sender, recipient, attendee, passenger, member, "
          "applicant, cardholder, account holder, signed by, assigned to", 0.25),
    _rule("PERSON", "product, products, company, companies, organization, organizations, organisation, "
          "organisations, org, orgs, vendor, vendors, brand, city, country, state, street, file, filename, host, "
          "hostname, server, service, services, app, application, project, team, teams, model, metric, plan, "
          "category", -0.4, before=40, after=0),
    # What a column header or a key says a number is when it is not one of these: an order_id or created_at
    # column, a timestamp field whose name also names an account (account_created_at). Labels only: in prose
    # these words are everywhere ("I updated my account: …").
    _rule("US_SSN US_BANK_NUMBER ABA_ROUTING_NUMBER", "order, invoice, ticket, tracking, created, updated, modified, "
          "deleted, expires, expiry, timestamp, epoch, datetime, date, time, ts", -0.5, label_only=True),
)  # fmt: skip

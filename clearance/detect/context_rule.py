"""A context rule: words near a finding of some types that move its score (see ``context.py``).

A plain value, in a module of its own that is not compiled (unlike ``context.py``, see setup.py): mypyc would
make it a class that cannot be copied, pickled or subclassed as a frozen dataclass can.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    label_only: bool = False
    """Only the finding's field label counts (its table column's header, its field's key: see ``context.py``),
    not the words around it. For words that say what a field holds but little in prose (``created``,
    ``updated``: ``account_created_at``, but "I updated my account: …")."""

"""The placeholder vault: one per request, in memory only, never written anywhere.

``<EMAIL_ADDRESS_1>`` stands for the first distinct email of the request, and the same value always gets the same
placeholder, so the model can still reason about "customer A wrote to customer B". ``restore`` puts originals back
into an answer, coping with placeholders the model reformatted slightly (``[EMAIL_ADDRESS_1]``,
``<email address 1>``, ``EMAIL_ADDRESS_1``) but only ever for placeholders this vault issued: it never invents a
value.
"""

from __future__ import annotations

import re


class PlaceholderVault:
    __slots__ = ("_by_placeholder", "_by_value", "_counters", "_pattern")

    def __init__(self) -> None:
        self._by_value: dict[tuple[str, str], str] = {}
        self._by_placeholder: dict[tuple[str, int], str] = {}
        self._counters: dict[str, int] = {}
        self._pattern: re.Pattern[str] | None = None

    def __len__(self) -> int:
        return len(self._by_value)

    def placeholder(self, value: str, entity_type: str) -> str:
        key = (entity_type, value)
        existing = self._by_value.get(key)
        if existing is not None:
            return existing
        n = self._counters.get(entity_type, 0) + 1
        self._counters[entity_type] = n
        token = f"<{entity_type}_{n}>"
        self._by_value[key] = token
        self._by_placeholder[(entity_type, n)] = value
        self._pattern = None
        return token

    def issued(self, value: str) -> bool:
        """Whether ``value`` is the original of a placeholder this vault issued (of any type)."""
        return any(original == value for original in self._by_placeholder.values())

    def _regex(self) -> re.Pattern[str] | None:
        if not self._by_placeholder:
            return None
        if self._pattern is None:
            types = sorted({t for t, _ in self._by_placeholder}, key=len, reverse=True)
            # each type's words may be joined by "_", "-", or a space, in any case
            alternatives = "|".join(r"[_\- ]?".join(map(re.escape, t.split("_"))) for t in types)
            self._pattern = re.compile(
                rf"(?:<\s*|\[\s*)?(?<![A-Za-z0-9])(?P<type>{alternatives})[_\- ]?#?(?P<n>\d+)(?!\d)(?:\s*>|\s*\])?",
                re.IGNORECASE,
            )
        return self._pattern

    def restore(self, text: str) -> str:
        pattern = self._regex()
        if pattern is None or not text:
            return text

        def put_back(match: re.Match[str]) -> str:
            entity_type = re.sub(r"[_\- ]", "_", match["type"]).upper()
            value = self._by_placeholder.get((entity_type, int(match["n"])))
            return value if value is not None else match[0]

        return pattern.sub(put_back, text)

"""Phone number validity from ``phonenumbers``' own metadata, compiled once per region into a single pattern.

``phonenumbers.parse`` and ``is_valid_number`` cost tens of microseconds a call (string normalisation, a dozen
pattern lookups). Detection validates many candidates, so ``PhoneValidator`` compiles, for each region it meets,
the union of the region's number-type patterns (fixed line, mobile, toll free, premium rate, shared cost,
personal, VoIP, pager, UAN, voicemail) and tests a national number against it in one match: the same rule as
``is_valid_number`` (a number is valid when it is of some type), at a fraction of the cost. Compiled patterns are
memoised per validator instance.
"""

from __future__ import annotations

import re

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

_TYPES = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip", "pager",
          "uan", "voicemail")  # fmt: skip


class PhoneValidator:
    def __init__(self) -> None:
        self._patterns: dict[str, tuple[re.Pattern[str], frozenset[int]] | None] = {}

    def prepare(self, regions: tuple[str, ...]) -> None:
        """Compile these regions' patterns now (at start-up) rather than on the first request that needs them."""
        for region in regions:
            self._region(region)

    def _region(self, region: str) -> tuple[re.Pattern[str], frozenset[int]] | None:
        if region not in self._patterns:
            metadata = PhoneMetadata.metadata_for_region(region)
            compiled: tuple[re.Pattern[str], frozenset[int]] | None = None
            if metadata is not None:
                alternatives: list[str] = []
                lengths: set[int] = set()
                for name in _TYPES:
                    desc = getattr(metadata, name, None)
                    if desc is not None and desc.national_number_pattern:
                        alternatives.append(f"(?:{desc.national_number_pattern})")
                        lengths.update(desc.possible_length or ())
                if alternatives:
                    compiled = (re.compile("|".join(alternatives)), frozenset(lengths))
            self._patterns[region] = compiled
        return self._patterns[region]

    def valid_for_region(self, national: str, region: str) -> bool:
        """``national`` (digits, no trunk prefix) is a valid number in ``region``."""
        entry = self._region(region)
        if entry is None:
            return False
        pattern, lengths = entry
        return (not lengths or len(national) in lengths) and pattern.fullmatch(national) is not None

    def valid_international(self, digits: str) -> bool:
        """``digits`` = country calling code + national number (what follows ``+``), e.g. ``442079460958``."""
        for size in (1, 2, 3):
            regions = COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:size]))
            if not regions:
                continue
            return any(self.valid_for_region(digits[size:], region) for region in regions)
        return False

    def valid_national(self, digits: str, region: str) -> bool:
        """``digits`` as dialled inside ``region``, with its trunk prefix (``020…`` in GB)."""
        metadata = PhoneMetadata.metadata_for_region(region)
        if metadata is None:
            return False
        prefix = metadata.national_prefix or ""
        if prefix and digits.startswith(prefix):
            digits = digits[len(prefix) :]
        return self.valid_for_region(digits, region)

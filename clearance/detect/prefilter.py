"""The trigger pass: one RE2 ``Set`` over every detector's triggers picks the detectors worth running.

RE2 matches all triggers together in a single linear pass, so a text with no ``@`` never pays for e-mail
detection and a text with no digits never pays for the numeric detectors. The pass runs over windows of
``WINDOW`` characters that overlap by ``OVERLAP`` (longer than any trigger can match), so the automaton's
memory stays bounded whatever the text's length. Triggers must therefore match at most ``OVERLAP`` characters.

The pass runs on every text of every request and on every streamed segment, so its fixed cost is kept small:
a text that fits in one window is matched as it is (no slicing), and the detectors of each possible outcome
are looked up rather than rebuilt.
"""

from __future__ import annotations

from collections.abc import Sequence

import re2

from clearance.detect.base import Detector
from clearance.detect.exclusions import re2_options

WINDOW = 32 * 1024
OVERLAP = 512


class TriggerSet:
    def __init__(self, detectors: Sequence[Detector]) -> None:
        self._detectors = tuple(detectors)
        self._always = frozenset(i for i, d in enumerate(self._detectors) if not d.triggers)
        self._always_list = [d for i, d in enumerate(self._detectors) if i in self._always]
        # Detectors that share a trigger (those that read number runs) share its entry in the set.
        owners: dict[str, list[int]] = {}
        for index, detector in enumerate(self._detectors):
            for trigger in detector.triggers:
                owners.setdefault(trigger, []).append(index)
        options = re2_options()
        options.max_mem = 64 << 20
        self._set = re2.Set.SearchSet(options)
        for trigger, indices in owners.items():
            try:
                self._set.Add(trigger)
            except re2.error:
                name = self._detectors[indices[0]].name
                raise ValueError(f"detector {name!r}: RE2 cannot compile trigger {trigger!r}") from None
        self._owners = tuple(tuple(indices) for indices in owners.values())
        self._triggered = len({i for indices in owners.values() for i in indices})
        if owners:
            self._set.Compile()

    def select(self, text: str) -> list[Detector]:
        """The detectors to run on ``text``, in their configured order."""
        if not self._owners:
            return list(self._always_list)
        owners = self._owners
        if len(text) <= WINDOW + OVERLAP:
            hits = self._set.Match(text)
            if hits is None:
                return list(self._always_list)
            chosen = {i for h in hits for i in owners[h]}
        else:
            chosen = set()
            for start in range(0, len(text), WINDOW):
                hits = self._set.Match(text[start : start + WINDOW + OVERLAP]) or ()
                chosen.update(i for h in hits for i in owners[h])
                if len(chosen) >= self._triggered:
                    break
        if self._always:
            chosen.update(self._always)
        detectors = self._detectors
        return [detectors[i] for i in sorted(chosen)]

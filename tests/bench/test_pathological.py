"""The pathological inputs: built at any fraction of their size, and timed half against full by the bench check."""

from __future__ import annotations

import pytest

from bench.pathological import PATHOLOGICAL, main, pathological_text


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_when_an_input_is_built_at_a_fraction_then_it_repeats_its_unit_that_many_times(name: str) -> None:
    prefix, unit, repeats, suffix = PATHOLOGICAL[name]
    assert pathological_text(name) == prefix + unit * repeats + suffix
    assert len(pathological_text(name, 0.5)) == len(prefix) + len(unit) * (repeats // 2) + len(suffix)


def test_when_the_check_runs_then_it_prints_each_input_s_growth_and_the_bar(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--only", "IBAN prefixes"])  # its exit status is the timing's verdict: not asserted in a test
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("IBAN prefixes")
    assert lines[1].split()[-1].endswith("x")
    assert lines[2].startswith("bar: full < 3 x half + 0.25 s")

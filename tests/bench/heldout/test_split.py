"""Each family's templates are dealt between the halves; no template and no seed is shared."""

from __future__ import annotations

from bench.heldout.shapes import ALL
from bench.heldout.split import RECORDS_PER_FAMILY, SPLITS, deal, families, seed


def test_every_family_has_templates_in_both_halves() -> None:
    dev, test = deal(ALL, "dev"), deal(ALL, "test")
    assert set(dev) == set(test) == set(RECORDS_PER_FAMILY)
    for family in dev:
        assert dev[family]
        assert test[family]


def test_the_halves_share_no_template() -> None:
    dev = {t.name for ts in deal(ALL, "dev").values() for t in ts}
    test = {t.name for ts in deal(ALL, "test").values() for t in ts}
    assert not dev & test
    assert dev | test == {t.name for t in ALL}


def test_template_names_are_unique_and_families_known() -> None:
    assert len({t.name for t in ALL}) == len(ALL)
    assert set(families(ALL)) == set(RECORDS_PER_FAMILY)


def test_seeds_differ_between_halves() -> None:
    assert seed("dev", "table", 3) != seed("test", "table", 3)
    assert SPLITS == ("dev", "test")

"""The detection benchmark's scoring: secrets as one class against detect-secrets, and the held-out bars."""

from __future__ import annotations

from typing import Any

from bench.detection import ANY_SECRET, HELDOUT_BARS, as_one_secret_class, score


def record(entities: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "prose", "text": "x" * 100, "entities": entities, "negatives": []}


def test_secret_types_become_one_class_and_other_types_drop() -> None:
    records = [record([{"start": 0, "end": 10, "type": "PASSWORD"}, {"start": 20, "end": 30, "type": "PERSON"},
                       {"start": 40, "end": 50, "type": "GITHUB_TOKEN"}])]  # fmt: skip
    predictions = [[{"start": 2, "end": 8, "type": "CONNECTION_STRING"}, {"start": 20, "end": 30, "type": "PERSON"}]]
    renamed, preds = as_one_secret_class(records, predictions)
    assert [e["type"] for e in renamed[0]["entities"]] == [ANY_SECRET, ANY_SECRET]
    assert preds == [[{"start": 2, "end": 8, "type": ANY_SECRET}]]
    scored = score(renamed, preds, (ANY_SECRET,))["per_type"][ANY_SECRET]
    assert (scored["tp"], scored["fp"], scored["fn"]) == (1, 0, 1)


def test_detect_secrets_findings_keep_their_class() -> None:
    records = [record([{"start": 0, "end": 10, "type": "API_KEY"}])]
    renamed, preds = as_one_secret_class(records, [[{"start": 0, "end": 4, "type": ANY_SECRET, "plugin": "X"}]])
    assert score(renamed, preds, (ANY_SECRET,))["per_type"][ANY_SECRET]["f1"] == 1.0


def test_held_out_bars_are_the_issues() -> None:
    assert HELDOUT_BARS == {"f1": 0.97, "person_f1": 0.80, "hard_negative_fp_rate": 0.01, "speedup": 200.0}

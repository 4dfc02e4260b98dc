from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clearance.cli import app
from clearance.cli.scan import masked_excerpt
from clearance.models import Finding

CARD = "4111 1111 1111 1111"
EMAIL = "jo@acme.io"
SECRET = "Tr0ub4dor&3"


def _run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "prompt.txt"
    path.write_text(f"Hi, card {CARD}\nmail {EMAIL} and password={SECRET} please\n")
    return path


def test_when_a_file_is_scanned_then_the_table_shows_findings_but_never_a_raw_value(sample: Path) -> None:
    code, out, _ = _run("scan", str(sample))
    assert code == 0
    assert "CREDIT_CARD" in out and "EMAIL_ADDRESS" in out and "PASSWORD" in out
    assert "restricted" in out and "2:6" in out  # the e-mail is on line 2, column 6
    for raw in (CARD, "1111", EMAIL, "acme", SECRET):
        assert raw not in out


def test_when_json_is_asked_then_findings_have_positions_levels_and_no_values(sample: Path) -> None:
    code, out, _ = _run("scan", str(sample), "--json")
    data = json.loads(out)
    assert code == 0 and data["level"] == "restricted"
    text = sample.read_text()
    spans = {f["type"]: text[f["start"] : f["end"]] for f in data["findings"]}
    assert spans == {"CREDIT_CARD": CARD, "EMAIL_ADDRESS": EMAIL, "PASSWORD": SECRET}
    assert CARD not in out and EMAIL not in out and SECRET not in out


def test_when_there_are_more_findings_than_rows_then_the_table_says_how_many_are_left() -> None:
    code, out, _ = _run("scan", "-", "--max-rows", "2", input=f"{EMAIL} " * 5)
    assert code == 0 and out.count("│ EMAIL_ADDRESS │") == 2  # two rows
    assert "3 more finding(s) not shown (EMAIL_ADDRESS 5 in all)" in " ".join(out.split())


def test_when_standard_input_is_scanned_then_it_works_like_a_file() -> None:
    code, out, _ = _run("scan", "-", "--json", input=f"mail {EMAIL}")
    assert code == 0 and json.loads(out)["counts"] == {"EMAIL_ADDRESS": 1}


@pytest.mark.parametrize(("level", "code"), [("restricted", 1), ("confidential", 1), ("public", 1)])
def test_when_fail_on_is_reached_then_the_exit_code_is_one(sample: Path, level: str, code: int) -> None:
    assert _run("scan", str(sample), "--fail-on", level)[0] == code


def test_when_fail_on_is_not_reached_then_the_exit_code_is_zero() -> None:
    assert _run("scan", "-", "--fail-on", "restricted", input=f"mail {EMAIL}")[0] == 0
    assert _run("scan", "-", "--fail-on", "secret", input="x")[0] == 2  # unknown level: usage error


def test_when_the_config_is_invalid_then_scan_lists_the_errors_and_exits_two(tmp_path: Path) -> None:
    config = tmp_path / "clearance.yaml"
    config.write_text("detection:\n  custom:\n    - {name: x, type: X, regex: '(a)\\1'}\n")
    code, _, err = _run("scan", "-", "--config", str(config), input="x")
    assert code == 2 and "detection.custom.0.regex" in err


def test_when_a_custom_detector_is_configured_then_scan_uses_it(tmp_path: Path) -> None:
    config = tmp_path / "clearance.yaml"
    config.write_text("detection:\n  custom:\n    - {name: codes, type: PROJECT, keywords: [bluebird]}\n")
    code, out, _ = _run("scan", "-", "--json", "--config", str(config), input="about Bluebird")
    assert code == 0 and json.loads(out)["counts"] == {"PROJECT": 1}


def test_when_an_excerpt_is_masked_then_neighbouring_findings_are_masked_too() -> None:
    text = "a 4111111111111111 b jo@acme.io c\nnext"
    findings = [Finding(2, 18, "CREDIT_CARD"), Finding(21, 31, "EMAIL_ADDRESS")]
    # The window grows to cover a finding it would cut, and newlines become spaces.
    assert masked_excerpt(text, findings, 0, width=6) == "a [CREDIT_CARD] b [EMAIL_ADDRESS]…"
    assert masked_excerpt(text, findings, 1, width=2) == "…b [EMAIL_ADDRESS] c…"
    assert masked_excerpt(text, findings, 1, width=12) == "…[CREDIT_CARD] b [EMAIL_ADDRESS] c next"


def test_when_records_are_classified_then_each_gets_a_level_and_counts(tmp_path: Path) -> None:
    data = tmp_path / "records.jsonl"
    data.write_text("\n".join([
        json.dumps({"id": 1, "text": f"card {CARD}"}),
        json.dumps({"id": 2, "text": "nothing to see"}),
        "{not json",
        json.dumps({"id": 4, "meta": {"mail": EMAIL}}),
    ]) + "\n")  # fmt: skip
    code, out, err = _run("classify", str(data), "--no-progress")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [(r["record"], r["level"], r["counts"]) for r in rows] == [
        (1, "restricted", {"CREDIT_CARD": 1}),
        (2, "public", {}),
        (3, "public", {}),
        (4, "confidential", {"EMAIL_ADDRESS": 1}),
    ]
    assert rows[2]["error"] == "invalid_json"
    assert "4 record(s) classified" in err and "could not be read" in err
    assert CARD not in out + err and EMAIL not in out + err


def test_when_a_field_is_chosen_then_only_that_field_is_scanned(tmp_path: Path) -> None:
    data = tmp_path / "records.jsonl"
    data.write_text(json.dumps({"a": f"card {CARD}", "b": {"c": EMAIL}}) + "\n" + json.dumps({"a": "x"}) + "\n")
    code, out, _ = _run("classify", str(data), "--field", "b.c", "--no-progress")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [(r["level"], r.get("error")) for r in rows] == [("confidential", None), ("public", "field_missing")]


def test_when_csv_goes_in_and_out_then_columns_are_scanned_and_labels_written(tmp_path: Path) -> None:
    data = tmp_path / "people.csv"
    data.write_text(f"name,email,card\nAda,{EMAIL},\nBob,,{CARD}\n")
    labels = tmp_path / "labels.csv"
    code, _, _ = _run("classify", str(data), "--output", str(labels), "--output-format", "csv", "--no-progress")
    rows = list(csv.DictReader(io.StringIO(labels.read_text())))
    assert code == 0
    assert [(r["record"], r["level"], r["counts"]) for r in rows] == [
        ("1", "confidential", "EMAIL_ADDRESS=1"),
        ("2", "restricted", "CREDIT_CARD=1"),
    ]
    code, _, err = _run("classify", str(data), "--field", "phone", "--no-progress")
    assert code == 2 and "column 'phone' is not in the header" in " ".join(err.split())


def test_when_a_text_file_is_classified_then_each_line_is_a_record(tmp_path: Path) -> None:
    data = tmp_path / "notes.txt"
    data.write_text(f"first {EMAIL}\nsecond\n")
    code, out, _ = _run("classify", str(data), "--no-progress")
    assert code == 0 and [json.loads(line)["level"] for line in out.splitlines()] == ["confidential", "public"]


@pytest.mark.parametrize(("option", "value"), [("--format", "xml"), ("--output-format", "parquet")])
def test_when_a_format_is_unknown_then_classify_says_which_are_known(tmp_path: Path, option: str, value: str) -> None:
    data = tmp_path / "notes.txt"
    data.write_text("x\n")
    code, _, err = _run("classify", str(data), option, value)
    assert code == 2 and "expected" in err

"""The detect-secrets runner maps what detect-secrets reports (a value and a line) back to spans of the text.

It runs in bench/.venv-detect-secrets (``bench/setup_detect_secrets.sh``); without that environment there is
nothing to run it with, and the test is skipped.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bench.detection import DETECT_SECRETS_PYTHON, HERE

pytestmark = pytest.mark.skipif(not DETECT_SECRETS_PYTHON.exists(), reason="bench/.venv-detect-secrets not set up")


def test_findings_become_spans_of_the_reported_values(tmp_path: Path) -> None:
    key = "AKIAZ7QX3JH6B5RDVW2M"
    texts = ["nothing to see here\n", f"line one\nexport AWS_ACCESS_KEY_ID={key}\n"]
    corpus, out = tmp_path / "corpus.jsonl", tmp_path / "out.json"
    corpus.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    subprocess.run([str(DETECT_SECRETS_PYTHON), str(HERE / "detect_secrets_runner.py"), str(corpus), str(out)],
                   check=True)  # fmt: skip
    result = json.loads(out.read_text())
    assert result["predictions"][0] == []
    spans = result["predictions"][1]
    assert {texts[1][s["start"] : s["end"]] for s in spans} == {key}
    assert {s["type"] for s in spans} == {"SECRET"}
    assert len(result["record_cpu_s"]) == 2

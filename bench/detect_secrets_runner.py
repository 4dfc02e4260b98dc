"""Runs Yelp's detect-secrets 1.5.0 on the corpus, inside bench/.venv-detect-secrets (never imported by Clearance).

Every default plugin with the default filters, the way ``detect-secrets scan`` scans a repository: each text is
written to a file (no extension: detect-secrets' generic file type) and read by ``scan_file``. (Its ad-hoc string
mode, ``scan --string``, searches eagerly and flags nearly every number and word as high-entropy: not how it is
used on data.) detect-secrets reports a secret's value and line, not its offsets: the span is where that value
occurs on its line, from the last reported position on (the whole line when the value is not found verbatim).
Every finding is one class, ``SECRET``: its plugin names (``Secret Keyword``,
``Base64 High Entropy String``…) do not map onto Clearance's types.

    bench/.venv-detect-secrets/bin/python bench/detect_secrets_runner.py CORPUS.jsonl OUT.json
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from detect_secrets.core.scan import scan_file
from detect_secrets.settings import default_settings


def spans(text: str, path: Path) -> list[dict[str, Any]]:
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    searched: dict[int, int] = {}
    found: list[dict[str, Any]] = []
    for secret in scan_file(str(path)):
        index = secret.line_number - 1
        if not 0 <= index < len(lines):
            continue
        line, value = lines[index], secret.secret_value or ""
        at = line.find(value, searched.get(index, 0)) if value else -1
        if at < 0 and value:
            at = line.find(value)
        if at < 0:
            start, end = starts[index], starts[index] + len(line.rstrip("\r\n"))
        else:
            start, end = starts[index] + at, starts[index] + at + len(value)
            searched[index] = at + len(value)
        found.append({"start": start, "end": end, "type": "SECRET", "plugin": secret.type})
    return found


def main() -> None:
    corpus, out = sys.argv[1], sys.argv[2]
    with open(corpus, encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    predictions = []
    record_cpu = []
    with default_settings(), tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "record"
        spans("warm up password = 'hunter2x9Q' AKIAIOSFODNN7EXAMPL3", path)
        cpu = time.process_time()
        for record in records:
            started = time.process_time()
            predictions.append(spans(record["text"], path))
            record_cpu.append(time.process_time() - started)
        cpu = time.process_time() - cpu
    with open(out, "w", encoding="utf-8") as sink:
        json.dump({"predictions": predictions, "cpu_s": cpu, "record_cpu_s": record_cpu}, sink)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Create bench/.venv-presidio: Presidio's analyzer, used only by the detection benchmark for comparison.
# It stays out of Clearance's own environment. No spaCy model is installed: the like-for-like run uses
# Presidio's pattern recognizers with a blank spaCy pipeline (tokenizer only, no NER).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-presidio"
python="${PYTHON:-python3.11}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --upgrade pip==25.3
"$venv/bin/pip" install --quiet presidio-analyzer==2.2.366 faker==40.54.0
"$venv/bin/python" -c 'import presidio_analyzer, spacy; print("presidio-analyzer", presidio_analyzer.__version__ if hasattr(presidio_analyzer, "__version__") else "2.2.366", "spacy", spacy.__version__)'

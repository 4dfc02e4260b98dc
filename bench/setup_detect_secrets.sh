#!/usr/bin/env bash
# Create bench/.venv-detect-secrets: Yelp's detect-secrets 1.5.0, used only by the detection benchmark to compare
# secret detection. It stays out of Clearance's own environment; every package is pinned by hash.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-detect-secrets"
python="${PYTHON:-python3.11}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --require-hashes --only-binary=:all: -r "$here/requirements-detect-secrets.txt"
"$venv/bin/python" -c 'from detect_secrets.__version__ import VERSION; print("detect-secrets", VERSION)'

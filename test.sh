#!/usr/bin/env bash
# Set up with the test tools, then run the whole test suite (real Chroma, real embedding model).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh dev
exec .venv/bin/python -m pytest "$@"

#!/usr/bin/env bash
# Set up on first use, then chat with the assistant about the bundled article (indexed on first run).
# Any arguments are a question to answer once instead: ./run.sh "Who is Sean Parnell?"
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
if [ "$#" -gt 0 ]; then
    exec .venv/bin/rag ask "$@"
fi
exec .venv/bin/rag chat

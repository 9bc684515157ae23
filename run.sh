#!/usr/bin/env bash
# Set up on first use, then serve the chat window on http://127.0.0.1:7860 (the bundled article is indexed on
# the first run). Any arguments are a question to answer once on the command line instead:
#   ./run.sh "Who is Sean Parnell?"
# RAG_HOST and RAG_PORT change the address; see the README for the widget and the HTTP API.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
if [ "$#" -gt 0 ]; then
    exec .venv/bin/rag ask "$@"
fi
exec .venv/bin/python app.py

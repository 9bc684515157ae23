#!/usr/bin/env bash
# The "llm" test tier: the LLM backends against a real llama.cpp server and in process, with SmolLM2-135M.
# llama-cpp-python has no prebuilt wheel on PyPI, so the first run compiles llama.cpp (25+ minutes on two
# cores; pip keeps the built wheel, so later runs reuse it). CI runs this after ./test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
log=.venv/install.log
if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
    printf 'setup: compiling llama-cpp-python for the llm tier (25+ minutes the first time)...' >&2
    t0=$SECONDS
    if CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" .venv/bin/python -m pip install --disable-pip-version-check \
        --no-input -e ".[dev,llm]" >>"$log" 2>&1; then
        printf ' done (%ss)\n' "$((SECONDS - t0))" >&2
    else
        printf ' failed; the end of %s:\n' "$log" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
fi
exec .venv/bin/python -m pytest -m llm "$@"

#!/usr/bin/env bash
# The "llm" test tier: the LLM backends against a real llama.cpp server and in process, with SmolLM2-135M.
# llama-cpp-python has no prebuilt wheel on PyPI, so the first run compiles llama.cpp (about 5 minutes on two
# cores). CI runs this after ./test.sh.
#
# The build is portable (AVX2/FMA, no -march=native): a native build on a CPU with AVX-512 and AMX crashed
# in libggml-cpu with a general protection fault on every generation here (session 20). pip's own wheel cache
# is keyed only by the source archive, not by CMAKE_ARGS, so it may hold such a native build; the wheel is
# therefore built with --no-cache-dir and kept in a folder of our own whose name carries the flags.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
log=.venv/install.log
version=0.3.36  # keep in step with pyproject.toml's [llm] extra
flags="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
key="$(printf '%s %s %s' "$version" "$flags" "$(.venv/bin/python -c 'import sys; print(sys.version_info[:2])')" \
    | sha256sum | cut -c1-16)"
wheels="${XDG_CACHE_HOME:-$HOME/.cache}/rag/llama-cpp-python/$key"
pip=(.venv/bin/python -m pip --disable-pip-version-check --no-input)
built() {  # this venv holds the wheel built with these flags
    [ "$(cat .venv/.llama-cpp-key 2>/dev/null)" = "$key" ] && .venv/bin/python -c "import llama_cpp" 2>/dev/null
}
if ! built; then
    wheel="$(ls "$wheels"/llama_cpp_python-"$version"-*.whl 2>/dev/null | head -n 1 || true)"
    if [ -z "$wheel" ]; then
        printf 'setup: compiling llama-cpp-python %s for the llm tier (about 5 minutes the first time)...' "$version" >&2
        t0=$SECONDS
        mkdir -p "$wheels"
        if CMAKE_ARGS="$flags" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "${pip[@]}" wheel --no-cache-dir --no-deps \
            "llama-cpp-python==$version" -w "$wheels" >>"$log" 2>&1; then
            printf ' done (%ss)\n' "$((SECONDS - t0))" >&2
        else
            printf ' failed; the end of %s:\n' "$log" >&2
            tail -n 30 "$log" >&2
            exit 1
        fi
        wheel="$(ls "$wheels"/llama_cpp_python-"$version"-*.whl | head -n 1)"
    fi
    printf 'setup: installing llama-cpp-python from %s...' "$wheel" >&2
    if "${pip[@]}" install --force-reinstall --no-deps "$wheel" >>"$log" 2>&1 \
        && "${pip[@]}" install --prefer-binary -e ".[dev,llm]" >>"$log" 2>&1; then
        printf ' done\n' >&2
        printf '%s' "$key" >.venv/.llama-cpp-key
    else
        printf ' failed; the end of %s:\n' "$log" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
fi
exec .venv/bin/python -m pytest -m llm "$@"

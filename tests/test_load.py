"""The load benchmark, bounded: more concurrent clients than the app's workers and line hold, on loopback,
with questions it has never seen. No request fails; what the app cannot take now is refused with 503 and
``Retry-After``, never left to time out. (Timings are the benchmark's to report, not a test's to assert:
``scripts/bench_load.py`` at full size gives the README's figures.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_overload_is_refused_with_retry_after_and_nothing_fails(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    command = [sys.executable, str(ROOT / "scripts" / "bench_load.py"), "--clients", "100", "--seconds", "10"]
    command += ["--total", "100", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
    load, memory = figures["concurrent"], figures["memory"]
    assert load["errors"] == 0 and load["answered"] > 0
    assert load["refused"] > 0, "100 clients are more than 2 workers and a line of 64: some must be refused"
    assert load["refused_with_retry_after"] == load["refused"]
    assert memory["outcomes"].get("answered", 0) + memory["outcomes"].get("refused", 0) == 100

"""Start-up cost, in one run on this machine: the CLI's answer beside the bare import floor, and the app.

Reports, as medians of ``--runs`` runs (with min and max):

* ``floor``: ``python -c "import torch, sentence_transformers, chromadb"``, what any peer pays first;
* ``rag ask``: one question answered by a new process, on a warm disk cache (the store is indexed once,
  before timing), its ratio to the floor, and its peak RSS;
* the app (``python app.py``): seconds from start to the first HTTP 200 of ``/``, to the first answer of
  ``POST /api/ask``, and its peak RSS after that answer.

    .venv/bin/python scripts/bench_startup.py [--runs 5] [--out eval/out/startup.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import free_port  # noqa: E402

QUESTION = "Who is Sean Parnell?"
FLOOR = [sys.executable, "-c", "import torch, sentence_transformers, chromadb"]


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of ``command``."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{command} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_maxrss / 1024


def summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def app_start(env: dict[str, str]) -> dict[str, float]:
    """Start ``python app.py``; time the first 200 of ``/`` and the first answer; read its peak RSS."""
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit("app.py exited")
            try:
                with urllib.request.urlopen(base + "/", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        first_page = time.perf_counter() - started
        body = json.dumps({"question": QUESTION}).encode()
        request = urllib.request.Request(base + "/api/ask", body, {"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as reply:
            json.load(reply)
        first_answer = time.perf_counter() - started
        return {"first_200_s": first_page, "first_answer_s": first_answer, "peak_rss_mb": peak_rss_mb(proc.pid)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "eval" / "out" / "startup.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rag-startup-") as store:
        env = {**os.environ, "RAG_STORE": store, "HF_HUB_OFFLINE": "1"}
        rag = [sys.executable, "-m", "rag.cli", "ask", QUESTION]
        timed(rag, env)  # indexes the bundled article (first use) and warms the disk cache
        timed(FLOOR, env)
        floor, ask, ask_rss, app = [], [], [], []
        for _ in range(args.runs):  # side by side, so background load hits both alike
            floor.append(timed(FLOOR, env)[0])
            wall, rss = timed(rag, env)
            ask.append(wall)
            ask_rss.append(rss)
            app.append(app_start(env))
    result = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "runs": args.runs,
        "import_floor_s": summary(floor),
        "rag_ask_s": summary(ask),
        "rag_ask_over_floor": round(statistics.median(ask) / statistics.median(floor), 2),
        "rag_ask_peak_rss_mb": summary(ask_rss),
        "app_first_200_s": summary([a["first_200_s"] for a in app]),
        "app_first_answer_s": summary([a["first_answer_s"] for a in app]),
        "app_peak_rss_mb": summary([a["peak_rss_mb"] for a in app]),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for key, value in result.items():
        print(f"{key:>22}: {value}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

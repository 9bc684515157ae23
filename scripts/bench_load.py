"""Load benchmark: many concurrent clients on loopback, with questions the app has never seen (no cache hits).

Starts the real app (``python app.py``) on a free loopback port over the bundled article, with its own store.
Questions are drawn fresh for every request (seeded by the run's start time) from templates and the
article's own words and names, so no two requests ask the same thing and nothing is answered from a cache.

- **Concurrent phase**: ``--clients`` threads ask ``POST /api/ask`` in a loop for ``--seconds``. Reports
  answered (200), refused (503, which must carry ``Retry-After``; how fast the refusal came), errors
  (anything else, or a timeout), p50/p95 of the answered, and the app's RSS at the start and the end.
- **Memory phase**: ``--total`` more questions (default 1,000), ``--memory-clients`` at a time; reports the
  app's RSS before and after, and the growth.

Targets (issue 13): no errors, p95 under 2 s at 50 clients, refusals quick with ``Retry-After``, RSS growth
under 50 MB over 1,000 questions. Exits 1 on any error.

    .venv/bin/python scripts/bench_load.py [--clients 50] [--seconds 60] [--total 1000] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index import BUNDLED_ARTICLE  # noqa: E402
from tests.servers import free_port, serving  # noqa: E402

TEMPLATES = (
    "What does the article say about {a}?",
    "Who said something about {a}?",
    "How is {a} connected to {b}?",
    "When did {a} happen?",
    "what about {a} and {b}",
    "Why does the article mention {a}?",
    "Did {b} respond to {a}?",
)


def rss_mb(pid: int) -> float:
    """The resident memory of process ``pid`` (MB), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Questions:
    """Fresh questions from the article's words, never the same twice in a run."""

    def __init__(self, seed: int) -> None:
        text = BUNDLED_ARTICLE.read_text(encoding="utf-8")
        self.words = sorted({w.lower() for w in re.findall(r"[A-Za-z]{5,}", text)})
        self.names = sorted(set(re.findall(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)+", text)))
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.seen: set[str] = set()

    def _pick(self) -> str:
        return str(self.rng.choice(self.names if self.rng.random() < 0.4 else self.words))

    def next(self) -> str:
        with self.lock:
            while True:
                question = self.rng.choice(TEMPLATES).format(a=self._pick(), b=self._pick())
                if question not in self.seen:
                    self.seen.add(question)
                    return question


def ask(client: httpx.Client, url: str, question: str) -> tuple[str, float, dict[str, str]]:
    started = time.perf_counter()
    try:
        r = client.post(url + "/api/ask", json={"question": question})
        kind = {200: "answered", 503: "refused"}.get(r.status_code, f"error {r.status_code}")
        headers = dict(r.headers)
    except httpx.HTTPError as exc:
        kind, headers = f"error {type(exc).__name__}", {}
    return kind, time.perf_counter() - started, headers


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def concurrent(
    url: str, pid: int, questions: Questions, clients: int, seconds: float, timeout: float
) -> dict[str, Any]:
    results: list[tuple[str, float, dict[str, str]]] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    start_rss = rss_mb(pid)

    def client_thread() -> None:
        with httpx.Client(timeout=timeout) as client:
            while time.monotonic() < stop:
                got = ask(client, url, questions.next())
                with lock:
                    results.append(got)
                if got[0] == "refused":
                    time.sleep(float(got[2].get("retry-after", "1")))

    threads = [threading.Thread(target=client_thread) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answered = [s for kind, s, _ in results if kind == "answered"]
    refused = [(s, h) for kind, s, h in results if kind == "refused"]
    errors = [kind for kind, _, _ in results if kind.startswith("error")]
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": len(results),
        "answered": len(answered),
        "refused": len(refused),
        "refused_with_retry_after": sum("retry-after" in h for _, h in refused),
        "refusal_p95_s": round(percentile([s for s, _ in refused], 0.95), 3) if refused else None,
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "p50_s": round(statistics.median(answered), 3) if answered else None,
        "p95_s": round(percentile(answered, 0.95), 3) if answered else None,
        "rss_start_mb": round(start_rss),
        "rss_end_mb": round(rss_mb(pid)),
    }


def memory(url: str, pid: int, questions: Questions, total: int, clients: int, timeout: float) -> dict[str, Any]:
    before = rss_mb(pid)
    left = iter(range(total))
    lock = threading.Lock()
    kinds: dict[str, int] = {}

    def client_thread() -> None:
        with httpx.Client(timeout=timeout) as client:
            while True:
                with lock:
                    if next(left, None) is None:
                        return
                kind, _, headers = ask(client, url, questions.next())
                if kind == "refused":
                    time.sleep(float(headers.get("retry-after", "1")))
                with lock:
                    kinds[kind] = kinds.get(kind, 0) + 1

    threads = [threading.Thread(target=client_thread) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = rss_mb(pid)
    return {
        "questions": total,
        "outcomes": kinds,
        "rss_before_mb": round(before),
        "rss_after_mb": round(after),
        "rss_growth_mb": round(after - before, 1),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--total", type=int, default=1000, help="questions of the memory phase")
    p.add_argument("--memory-clients", type=int, default=4)
    p.add_argument("--request-timeout", type=float, default=30)
    p.add_argument("--out", type=Path, help="also write the figures here as JSON")
    args = p.parse_args()
    questions = Questions(seed=int(time.time()))
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "RAG_STORE": tmp, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
        command = [sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port)]
        with serving(command, url + "/examples/embed.html", timeout=300, env=env, cwd=ROOT, name="the app") as proc:
            with httpx.Client(timeout=60) as client:  # one answer first: the models are loaded
                ask(client, url, questions.next())
            load = concurrent(url, proc.pid, questions, args.clients, args.seconds, args.request_timeout)
            print(json.dumps({"concurrent": load}), flush=True)
            grow = memory(url, proc.pid, questions, args.total, args.memory_clients, args.request_timeout)
            print(json.dumps({"memory": grow}), flush=True)
    figures = {"concurrent": load, "memory": grow}
    if args.out:
        args.out.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return 1 if load["errors"] or any(k.startswith("error") for k in grow["outcomes"]) else 0


if __name__ == "__main__":
    sys.exit(main())

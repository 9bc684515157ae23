"""Concurrency benchmark: N clients on loopback ask questions through ``POST /api/ask`` at the same time
(or through the Gradio API, which the chat's queue serves: ``--surface gradio`` uses gradio_client,
``--surface gradio-rest`` Gradio's REST protocol with httpx).

Starts the real app (``python app.py``) on a free loopback port with its own store, unless ``--url`` points
at a running one. It first asks every question of ``eval/datasets/article.jsonl`` once, one at a time
(warm-up and reference), and keeps those answered correctly (every key fact present, or an abstention for
an unanswerable question). Then ``--clients`` threads each ask ``--questions`` of them at once, and every
answer must be correct and identical to the one given alone. Prints p50/p95 latency; exits 1 on any
wrong answer or error. Bounded: each request times out after ``--request-timeout`` seconds and the whole
run after ``--deadline``.

    .venv/bin/python scripts/bench_concurrency.py                # 20 clients x 5 questions
    .venv/bin/python scripts/bench_concurrency.py --surface gradio-rest   # the same through the Gradio queue
    .venv/bin/python scripts/bench_concurrency.py --url http://127.0.0.1:7860 --clients 20
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.dataset import ARTICLE_SET, Example, load_jsonl  # noqa: E402
from eval.metrics import key_fact_recall  # noqa: E402
from tests.servers import free_port, serving  # noqa: E402


@contextmanager
def serve(store: Path, timeout: float = 180) -> Iterator[str]:
    """Run ``python app.py`` on a free loopback port until the block ends; yields its base URL."""
    port = free_port()
    env = {**os.environ, "RAG_STORE": str(store), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port)]
    with serving(command, url + "/examples/embed.html", timeout=timeout, env=env, cwd=ROOT, name="the app"):
        yield url


def correct(example: Example, answer: dict[str, Any]) -> bool:
    """Every key fact present for an answerable question; an abstention for an unanswerable one."""
    if not example.answerable:
        return bool(answer["abstained"])
    return not answer["abstained"] and key_fact_recall(answer["answer"], example.key_facts) == 1.0


class Asker:
    """One client: ``POST /api/ask`` with httpx, or the Gradio API (``/ask``) with gradio_client."""

    def __init__(self, url: str, surface: str, timeout: float) -> None:
        self.url, self.surface, self.timeout = url, surface, timeout
        self.http = httpx.Client(timeout=timeout)
        self.gradio: Any = None
        if surface == "gradio":
            from gradio_client import Client

            self.gradio = Client(url + "/", verbose=False)

    def __call__(self, example: Example) -> tuple[float, dict[str, Any]]:
        """One question; returns (seconds, answer object). Raises on any error."""
        t0 = time.perf_counter()
        if self.gradio is not None:
            job = self.gradio.submit(example.question, example.history, api_name="/ask")
            answer: dict[str, Any] = job.result(timeout=self.timeout)
            return time.perf_counter() - t0, answer
        if self.surface == "gradio-rest":  # Gradio's REST protocol: queue the call, then read its event stream
            call = self.http.post(self.url + "/gradio_api/call/ask", json={"data": [example.question, example.history]})
            call.raise_for_status()
            with self.http.stream("GET", f"{self.url}/gradio_api/call/ask/{call.json()['event_id']}") as events:
                event = ""
                for line in events.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event in ("complete", "error"):
                        if event == "error":
                            raise RuntimeError(f"the Gradio API failed: {line[6:]}")
                        return time.perf_counter() - t0, json.loads(line[6:])[0]
            raise RuntimeError("the Gradio event stream ended without an answer")
        r = self.http.post(self.url + "/api/ask", json={"question": example.question, "history": example.history})
        elapsed = time.perf_counter() - t0
        r.raise_for_status()
        return elapsed, r.json()

    def close(self) -> None:
        """Close the connections."""
        self.http.close()
        if self.gradio is not None:
            self.gradio.close()


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation."""
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    k = (len(data) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def run(url: str, surface: str, clients: int, per_client: int, request_timeout: float, deadline: float) -> int:
    """The benchmark against ``url``; returns the exit status."""
    examples = load_jsonl(ARTICLE_SET)
    reference: dict[str, tuple[Example, dict[str, Any]]] = {}
    serial: list[float] = []
    asker = Asker(url, "api", request_timeout)
    for ex in examples:
        elapsed, answer = asker(ex)
        serial.append(elapsed)
        if correct(ex, answer):
            reference[ex.id] = (ex, answer)
    asker.close()
    pool = list(reference.values())
    print(
        f"reference pass: {len(pool)}/{len(examples)} questions answered correctly one at a time; "
        f"serial p50 {percentile(serial, 50) * 1000:.0f} ms"
    )

    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)
    stop_at = time.monotonic() + deadline

    def client_thread(n: int) -> None:
        asker = Asker(url, surface, request_timeout)
        try:
            start.wait()
            for i in range(per_client):
                if time.monotonic() > stop_at:
                    with lock:
                        failures.append(f"client {n}: deadline reached")
                    return
                ex, expected = pool[(n * per_client + i) % len(pool)]
                try:
                    elapsed, answer = asker(ex)
                except Exception as exc:  # any failure counts against the run
                    with lock:
                        failures.append(f"client {n} {ex.id}: {type(exc).__name__}: {exc}")
                    continue
                problem = None
                if not correct(ex, answer):
                    problem = f"wrong answer {answer['answer']!r}"
                elif answer["answer"] != expected["answer"] or answer["citations"] != expected["citations"]:
                    problem = "answer differs from the one given alone"
                with lock:
                    latencies.append(elapsed)
                    if problem:
                        failures.append(f"client {n} {ex.id}: {problem}")
        finally:
            asker.close()

    threads = [threading.Thread(target=client_thread, args=(n,), daemon=True) for n in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(stop_at - time.monotonic(), 0) + request_timeout)
    wall = time.perf_counter() - t0

    report = {
        "surface": {"api": "POST /api/ask", "gradio": "Gradio /ask via gradio_client"}.get(surface, "Gradio /ask REST"),
        "clients": clients,
        "requests": clients * per_client,
        "answered": len(latencies),
        "failures": len(failures),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 95) * 1000, 1) if latencies else None,
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "mean_ms": round(statistics.mean(latencies) * 1000, 1) if latencies else None,
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(latencies) / wall, 1) if wall else None,
    }
    print(json.dumps(report, indent=2))
    for f in failures[:20]:
        print("FAIL", f, file=sys.stderr)
    ok = not failures and len(latencies) == clients * per_client
    print("all answers correct" if ok else "SOME REQUESTS FAILED", file=sys.stderr)
    return 0 if ok else 1


def main() -> int:
    """Parse flags, start the app if needed, run the benchmark."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="benchmark a running app instead of starting one")
    p.add_argument(
        "--surface",
        choices=["api", "gradio", "gradio-rest"],
        default="api",
        help="POST /api/ask; the Gradio API with gradio_client; or Gradio's REST protocol with httpx",
    )
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--questions", type=int, default=5, help="questions per client")
    p.add_argument("--request-timeout", type=float, default=60)
    p.add_argument("--deadline", type=float, default=300, help="seconds the concurrent phase may take")
    args = p.parse_args()
    if args.url:
        return run(
            args.url.rstrip("/"), args.surface, args.clients, args.questions, args.request_timeout, args.deadline
        )
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp, serve(Path(tmp) / "store") as url:
        return run(url, args.surface, args.clients, args.questions, args.request_timeout, args.deadline)


if __name__ == "__main__":
    sys.exit(main())

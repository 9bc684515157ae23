"""Warm per-question latency of the default assistant (the figure issue 2 asks for).

Builds one Assistant (the model loads once), warms it up, then asks every question of the shipped set
``--rounds`` times. Nothing is cached between questions: every measured answer pays for its one embedding.
Beside each answer, in the same loop, it times one embedding of the same question alone, so the ratio of
the medians (the target of issue 11: at most 2) is measured side by side. Prints medians and p95 of
``timings_ms``, the embedding, the ratio and the model load count.

    .venv/bin/python scripts/bench_latency.py [--rounds 3] [--store DIR] [--backend fitted]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from eval.dataset import ARTICLE_SET, load_dataset
from index import BUNDLED_ARTICLE, embeddings
from rag.chain import Assistant
from rag.config import Settings
from rag.ingest import index_with


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--store")
    parser.add_argument("--backend", default="extractive")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(store=args.store or tmp, backend=args.backend)
        index_with(settings, [BUNDLED_ARTICLE])
        started = time.perf_counter()
        assistant = Assistant(settings)
        print(f"assistant ready in {time.perf_counter() - started:.2f} s (store already indexed)")
        examples = load_dataset(ARTICLE_SET)
        assistant.ask(examples[0].question)  # warm-up
        timings: dict[str, list[float]] = {"retrieve": [], "answer": [], "total": []}
        wall: list[float] = []
        embed: list[float] = []
        for _ in range(args.rounds):
            for ex in examples:
                t = time.perf_counter()
                assistant.embeddings.encode([ex.question])
                embed.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                answer = assistant.ask(ex.question, ex.history)
                wall.append((time.perf_counter() - t) * 1000)
                for key in timings:
                    timings[key].append(answer.timings_ms[key])
    n = len(wall)
    print(
        f"{n} answers ({len(examples)} questions x {args.rounds} rounds), "
        f"embedding model loads: {embeddings.load_count}"
    )
    for key, values in [*timings.items(), ("wall clock of ask()", wall), ("one query embedding", embed)]:
        print(f"  {key:>20}: median {statistics.median(values):6.1f} ms   p95 {percentile(values, 0.95):6.1f} ms")
    ratio = statistics.median(timings["total"]) / statistics.median(embed)
    print(f"  answer p50 / embedding p50 = {ratio:.2f} (backend {args.backend})")


if __name__ == "__main__":
    main()

"""Every evaluation document at once: ``python -m eval.suite [--split dev|blind] [--backend NAME ...]``.

For each document (the article, the covid paper, the State of the Union, Alice, the Grimm collection) it
runs the benchmark (:func:`eval.bench.run_benchmark`) on that document's question set of the chosen split,
for each backend named (default: ``extractive`` and ``fitted``), writes each report to
``eval/out/suite-<split>/<document>-<backend>/`` and prints one table: per document and backend, the
figures the targets are set on.

Splits: ``dev`` are the development sets (read and tuned on: the article's shipped and held-out sets, the
covid unanswerable set, each document's ``dev.jsonl``); ``blind`` are the sets nobody on the team has read
(each document's ``blind.jsonl``, ``article_blind.jsonl``). Measure ``blind`` once, at the end of a change.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from core.errors import run_command
from eval import report
from eval.bench import run_benchmark
from rag.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "eval" / "datasets"
OUT = ROOT / "eval" / "out"

DOCUMENTS: dict[str, list[Path]] = {
    "article": [ROOT / "data" / "article.txt"],
    "covid": [DATA / "origin_of_covid19" / "document.txt"],
    "sotu": [DATA / "sotu" / "document.txt"],
    "alice": [DATA / "alice" / "document.txt"],
    "grimm": sorted((DATA / "grimm" / "docs").glob("*.txt")),
}
SPLITS: dict[str, dict[str, list[Path]]] = {
    "dev": {
        "article": [DATA / "article.jsonl", *(DATA / f"article_holdout{n}.jsonl" for n in ("", "2", "3"))],
        "covid": [DATA / "origin_of_covid19" / "rag_dataset.json", DATA / "covid_unanswerable.jsonl"],
        "sotu": [DATA / "sotu" / "dev.jsonl"],
        "alice": [DATA / "alice" / "dev.jsonl"],
        "grimm": [DATA / "grimm" / "dev.jsonl"],
    },
    "blind": {
        "article": [DATA / "article_blind.jsonl"],
        "covid": [DATA / "origin_of_covid19" / "blind.jsonl"],
        "sotu": [DATA / "sotu" / "blind.jsonl"],
        "alice": [DATA / "alice" / "blind.jsonl"],
        "grimm": [DATA / "grimm" / "blind.jsonl"],
    },
}
COLUMNS = (
    ("questions", "questions"),
    ("hit_at_k", "hit@k"),
    ("all_key_facts", "all key facts"),
    ("citation_precision", "citation precision"),
    ("abstention_recall", "unanswerable declined"),
    ("false_abstention", "answerable declined"),
    ("latency_p50_ms", "p50 ms"),
)


def _fmt(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.0f}" if value > 5 else f"{value:.3f}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=sorted(SPLITS), default="dev")
    parser.add_argument("--backend", nargs="+", default=["extractive", "fitted"])
    parser.add_argument("--docs", nargs="+", choices=sorted(DOCUMENTS), default=list(DOCUMENTS))
    parser.add_argument("--store", help="store for the benchmark collections (default: a temporary one)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)

    def run() -> int:
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            for doc in args.docs:
                for backend in args.backend:
                    settings = Settings.from_env(store=args.store or tmp, backend=backend)
                    bench = run_benchmark(
                        settings, DOCUMENTS[doc], SPLITS[args.split][doc], baselines=(), progress=False
                    )
                    report.write(bench, OUT / f"suite-{args.split}" / f"{doc}-{backend}")
                    m = bench.runs[0].metrics
                    rows.append([doc, backend, *(_fmt(m.get(key)) for key, _ in COLUMNS)])
        header = ["document", "backend", *(label for _, label in COLUMNS)]
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        for r in [header, *rows]:
            print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
        print(f"reports: {OUT / f'suite-{args.split}'}/<document>-<backend>/report.md")
        return 0

    return run_command(run, args.debug)


if __name__ == "__main__":
    raise SystemExit(main())

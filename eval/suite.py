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
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from core.errors import run_command
from eval import BASELINES, add_baselines_argument, report
from eval.bench import Benchmark, SystemRun, run_benchmark
from eval.dataset import casual
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
#: Every document above in one collection of ten: is the cited document the right one? (dev sets only)
DOCUMENTS["library"] = [p for name in list(DOCUMENTS) for p in DOCUMENTS[name]]
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
SPLITS["dev"]["library"] = [p for name in DOCUMENTS if name != "library" for p in SPLITS["dev"][name]]
COLUMNS = (
    ("questions", "questions"),
    ("hit_at_k", "hit@k"),
    ("all_key_facts", "all key facts"),
    ("citation_precision", "citation precision"),
    ("right_document", "right document"),
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


def run_document(
    doc: str, split: str, backends: Sequence[str], baselines: Sequence[str], casual_too: bool, store: str
) -> Benchmark:
    """One document's question set of ``split``: each backend (and, with ``casual_too``, each backend on the
    casual variants of the questions), then the baselines, merged into one benchmark whose runs are named
    after them."""
    runs: list[SystemRun] = []
    first: Benchmark | None = None
    for n, backend in enumerate(backends):
        settings = Settings.from_env(store=store, backend=backend)
        bench = run_benchmark(
            settings, DOCUMENTS[doc], SPLITS[split][doc], baselines=baselines if n == 0 else (), progress=False
        )
        first = first or bench
        product, *others = bench.runs
        runs.append(replace(product, name=backend))
        if casual_too:
            variant = run_benchmark(
                settings, DOCUMENTS[doc], SPLITS[split][doc], baselines=(), progress=False, transform=casual
            )
            runs.append(replace(variant.runs[0], name=f"{backend} casual"))
        runs.extend(others)
    assert first is not None
    return replace(first, runs=sorted(runs, key=lambda r: r.name in baselines))


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser)
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)
    return run_command(lambda: run(args), args.debug)


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The suite's flags (also ``rag eval --suite SPLIT``)."""
    parser.add_argument("--split", choices=sorted(SPLITS), default="dev")
    parser.add_argument("--backend", nargs="+", default=["extractive", "fitted"], dest="backends")
    parser.add_argument("--docs", nargs="+", choices=sorted(DOCUMENTS), default=list(DOCUMENTS), dest="documents")
    add_baselines_argument(parser, "the backends")
    parser.add_argument(
        "--casual",
        action="store_true",
        help="also ask every question as typed casually (lower case, no question mark, one typo)",
    )
    parser.add_argument("--store", help="store for the benchmark collections (default: a temporary one)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the suite the flags describe: print one table, write each document's report and a summary."""
    baselines = BASELINES if args.baselines is None else tuple(b for b in args.baselines if b != "none")
    out = OUT / f"suite-{args.split}"
    rows: list[list[str]] = []
    summary = [f"# Evaluation suite: {args.split} sets", "", _SPLIT_NOTES[args.split], ""]
    with tempfile.TemporaryDirectory() as tmp:
        for doc in (d for d in args.documents if d in SPLITS[args.split]):
            bench = run_document(doc, args.split, args.backends, baselines, args.casual, args.store or tmp)
            report.write(bench, out / doc)
            names = [Path(p).name for p in SPLITS[args.split][doc]]
            summary += [f"## {doc} ({len(bench.examples)} questions: {', '.join(names)})", ""]
            summary += [*report.results_table(bench, [key for key, _ in COLUMNS]), "", *report.by_type(bench), ""]
            for r in bench.runs:
                rows.append([doc, r.name, *(_fmt(r.metrics.get(key)) for key, _ in COLUMNS)])
    print(table(rows, ["document", "system", *(label for _, label in COLUMNS)]))
    (out / "README.md").write_text("\n".join(summary), encoding="utf-8")
    print(f"summary: {out / 'README.md'}; reports: {out}/<document>/report.md")
    return 0


_SPLIT_NOTES = {
    "dev": "Development sets: read and tuned on (and the fitted answerer is trained on them), so optimistic.",
    "blind": "Blind sets: written by helpers who saw only the document, never read by the team, measured once "
    "at the end of a change.",
}


if __name__ == "__main__":
    raise SystemExit(main())

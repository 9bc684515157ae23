"""``rag eval`` / ``python -m eval``: benchmark the product against baselines and write the report.

    rag eval [--dataset FILE ...] [--docs PATH ...] [--out DIR] [--store DIR] [--backend NAME] [-k N]

Defaults: the shipped question set over the bundled article, the report in ``eval/out/``, and a temporary
store (with ``--store``, the benchmark's own collection in that store is kept and reused by the next run).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from core.errors import InputError, run_command
from eval import BASELINES, add_baselines_argument
from eval.dataset import ARTICLE_SET
from rag.config import Settings, from_args
from rag.config import add_arguments as add_setting_arguments

OUT = Path(__file__).resolve().parent / "out"


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The benchmark's flags, shared by ``rag eval`` and ``python -m eval``."""
    parser.description = (
        "Run the product and its baselines (BM25 only, dense only, the LangChain tutorial pipeline) over a "
        "question set; print a table and write report.md, results.json and chart.png."
    )
    parser.add_argument(
        "--dataset",
        nargs="+",
        metavar="FILE",
        help="questions: .jsonl in the shipped schema, or LlamaIndex rag_dataset.json; several are joined "
        "(default: the shipped article set)",
    )
    parser.add_argument("--docs", nargs="+", metavar="PATH", help="documents to answer from (default: the article)")
    parser.add_argument("--out", metavar="DIR", help=f"where report.md, results.json and chart.png go (default {OUT})")
    parser.add_argument("--store", metavar="DIR", help="keep the benchmark's collection in this store (default: temp)")
    add_setting_arguments(parser, Settings, ("backend", "k", "chunk_size", "chunk_overlap"))
    add_baselines_argument(parser, "the product")
    parser.add_argument(
        "--suite",
        choices=("dev", "blind"),
        help="run every evaluation document's dev or blind set instead (the extractive and fitted backends, or "
        "--backend's, beside the baselines; per document and question type; see eval/suite.py)",
    )
    parser.add_argument(
        "--casual", action="store_true", help="with --suite: also ask each question lower-cased, unpunctuated, one typo"
    )
    return parser


def _suite(args: argparse.Namespace) -> int:
    from eval import suite

    if args.docs or args.dataset:
        raise InputError("--suite runs its own documents and question sets; drop --docs and --dataset")
    backends = [args.backend] if args.backend else ["extractive", "fitted"]
    ns = argparse.Namespace(
        split=args.suite,
        backends=backends,
        documents=list(suite.DOCUMENTS),
        baselines=args.baselines,
        casual=args.casual,
        store=args.store,
    )
    return suite.run(ns)


def _inputs(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    from index import BUNDLED_ARTICLE

    docs = list(args.docs or [str(BUNDLED_ARTICLE)])
    if args.dataset:
        return docs, list(args.dataset)
    if any(Path(d).resolve() != BUNDLED_ARTICLE for d in docs):
        raise InputError("--docs needs --dataset FILE: the shipped questions are about the bundled article")
    return docs, [str(ARTICLE_SET)]


def run(args: argparse.Namespace) -> int:
    """Run the benchmark the flags describe, print its table, and write the report files."""
    if getattr(args, "suite", None):
        return _suite(args)
    from eval.bench import run_benchmark
    from eval.report import terminal_table, write

    docs, datasets = _inputs(args)
    baselines = BASELINES if args.baselines is None else tuple(b for b in args.baselines if b != "none")
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as scratch:
        settings = from_args(Settings, args).with_(store=Path(args.store or scratch).expanduser())
        bench = run_benchmark(settings, docs, datasets, baselines)
    print(terminal_table(bench))
    paths = write(bench, args.out or OUT)
    print(f"\nwrote {', '.join(str(p) for p in paths.values())}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m eval``: the same flags and error handling as ``rag eval``."""
    parser = add_arguments(argparse.ArgumentParser(prog="python -m eval"))
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    return run_command(lambda: run(args), debug=bool(os.environ.get("RAG_DEBUG")))

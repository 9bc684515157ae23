"""The evaluation sets and the benchmark: ``rag eval`` or ``python -m eval`` (see eval/README.md)."""

from __future__ import annotations

import argparse

#: The baseline systems a benchmark can run beside the product (see :mod:`eval.baselines`).
BASELINES = ("bm25", "dense", "langchain-tutorial")


def add_baselines_argument(parser: argparse.ArgumentParser, beside: str) -> None:
    """The ``--baselines`` flag: which baselines run beside ``beside`` (default all; 'none': none)."""
    parser.add_argument(
        "--baselines",
        nargs="*",
        metavar="NAME",
        choices=(*BASELINES, "none"),
        help=f"baselines to run beside {beside} (default all: {' '.join(BASELINES)}; 'none': {beside} only)",
    )

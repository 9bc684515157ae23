"""The evaluation sets and the benchmark: ``rag eval`` or ``python -m eval`` (see eval/README.md)."""

#: The baseline systems a benchmark can run beside the product (see :mod:`eval.baselines`).
BASELINES = ("bm25", "dense", "langchain-tutorial")

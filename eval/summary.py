"""From scored answers to one system's figures: retrieval, key facts, citations, abstention, length, latency.

Every rate is a share in [0, 1]; ``None`` means the dataset cannot measure it (no key facts, no unanswerable
questions, no abstentions) and is shown as n/a rather than as a made-up number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from eval.metrics import Scored


@dataclass(frozen=True)
class Metric:
    """How a figure is named and read."""

    key: str
    label: str
    higher_is_better: bool | None = True  # None: neither way is better (answer length)
    rate: bool = True
    definition: str = ""


METRICS = (
    Metric("hit_at_1", "hit@1", definition="answerable questions whose first retrieved passage is a hit"),
    Metric("hit_at_k", "hit@k", definition="answerable questions with a hit among all the passages retrieved"),
    Metric("mrr", "MRR", definition="mean over answerable questions of 1 / rank of the first hit (0 if none)"),
    Metric("key_fact_recall", "key-fact recall", definition="mean share of a question's key facts in its answer"),
    Metric("all_key_facts", "all key facts", definition="answerable questions whose answer has every key fact"),
    Metric(
        "citation_precision",
        "citation precision",
        definition="citations given to answerable questions whose span overlaps the evidence",
    ),
    Metric(
        "citation_recall",
        "citation recall",
        definition="answerable questions with at least one citation overlapping the evidence",
    ),
    Metric(
        "right_document",
        "right document cited",
        definition="answered answerable questions whose citations are all in a document that holds the evidence",
    ),
    Metric("abstention_precision", "abstention precision", definition="declined questions that are unanswerable"),
    Metric("abstention_recall", "abstention recall", definition="unanswerable questions that were declined"),
    Metric("false_abstention", "false abstentions", higher_is_better=False, definition="answerable questions declined"),
    Metric(
        "answer_words",
        "answer length (words)",
        higher_is_better=None,
        rate=False,
        definition="mean words of the answers given (declines and [n] markers not counted)",
    ),
    Metric(
        "latency_p50_ms",
        "latency p50 (ms)",
        higher_is_better=False,
        rate=False,
        definition="median of timings_ms.total",
    ),
    Metric(
        "latency_p95_ms",
        "latency p95 (ms)",
        higher_is_better=False,
        rate=False,
        definition="95th percentile of timings_ms.total",
    ),
)
RATES = tuple(m for m in METRICS if m.rate)


def answer_words(text: str) -> int:
    """Length of an answer in words, without its ``[n]`` citation markers."""
    return len(re.sub(r"\[\d+\]", " ", text).split())


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def summarize(results: Sequence[Scored]) -> dict[str, float | int | None]:
    """The figures of one system over a dataset (see :data:`METRICS` for their definitions)."""
    answerable = [r for r in results if r.example.answerable]
    unanswerable = [r for r in results if not r.example.answerable]
    with_facts = [r for r in answerable if r.example.key_facts]
    abstained = [r for r in results if r.answer.abstained]
    cited = [c for r in answerable for c in r.answer.citations]
    supported = sum(r.citations_supported for r in answerable)
    given = [answer_words(r.answer.answer) for r in results if not r.answer.abstained]
    totals = [r.answer.timings_ms.get("total", 0.0) for r in results]
    out: dict[str, float | int | None] = {
        "questions": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "hit_at_1": _share(sum(r.hit_rank == 1 for r in answerable), len(answerable)),
        "hit_at_k": _share(sum(r.hit_rank is not None for r in answerable), len(answerable)),
        "mrr": float(np.mean([1 / r.hit_rank if r.hit_rank else 0.0 for r in answerable])) if answerable else None,
        "key_fact_recall": float(np.mean([r.fact_recall for r in with_facts])) if with_facts else None,
        "all_key_facts": _share(sum(r.all_facts for r in with_facts), len(with_facts)),
        "citation_precision": _share(supported, len(cited)),
        "citation_recall": _share(sum(r.citations_supported > 0 for r in answerable), len(answerable)),
        "right_document": _share(
            sum(bool(r.right_document) for r in answerable if r.right_document is not None),
            sum(r.right_document is not None for r in answerable),
        ),
        "abstention_precision": _share(sum(not r.example.answerable for r in abstained), len(abstained)),
        "abstention_recall": _share(sum(r.answer.abstained for r in unanswerable), len(unanswerable)),
        "false_abstention": _share(sum(r.answer.abstained for r in answerable), len(answerable)),
        "answer_words": float(np.mean(given)) if given else None,
        "latency_p50_ms": float(np.percentile(totals, 50)) if totals else None,
        "latency_p95_ms": float(np.percentile(totals, 95)) if totals else None,
    }
    return out

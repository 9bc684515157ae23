"""Scoring one answer against one example: retrieval hits, key facts, citation overlap, abstention."""

from __future__ import annotations

from dataclasses import dataclass

from core.contract import Answer
from eval.dataset import Example
from rag.text import fold


@dataclass(frozen=True)
class Span:
    """Where an evidence passage lies in a source."""

    source: str
    start: int
    end: int


def locate(evidence: list[str], texts: dict[str, str]) -> list[Span]:
    """Find each evidence passage verbatim in the source texts (first occurrence)."""
    spans = []
    for passage in evidence:
        for source, text in texts.items():
            at = text.find(passage)
            if at >= 0:
                spans.append(Span(source, at, at + len(passage)))
                break
    return spans


def is_hit(source: str, start: int, end: int, evidence: list[Span]) -> bool:
    """A retrieved passage is a hit when it contains an evidence span, or (for long reference passages,
    as in LlamaIndex datasets) when most of the retrieved passage lies inside one."""
    for ev in evidence:
        if ev.source != source:
            continue
        if start <= ev.start and ev.end <= end:
            return True
        overlap = min(end, ev.end) - max(start, ev.start)
        if overlap > 0 and overlap >= 0.5 * (end - start):
            return True
    return False


def first_hit_rank(answer: Answer, evidence: list[Span]) -> int | None:
    """1-based rank of the first retrieved passage that is a hit, or None."""
    for rank, p in enumerate(answer.retrieved, start=1):
        if is_hit(p.source, p.start, p.end, evidence):
            return rank
    return None


def key_fact_recall(answer_text: str, key_facts: list[list[str]]) -> float:
    """Share of key facts of which the answer contains at least one variant."""
    if not key_facts:
        return 1.0
    text = fold(answer_text)
    found = sum(1 for fact in key_facts if any(fold(v) in text for v in fact))
    return found / len(key_facts)


def citation_overlaps(source: str, start: int, end: int, evidence: list[Span]) -> bool:
    """Whether a cited span overlaps any evidence span."""
    return any(ev.source == source and min(end, ev.end) > max(start, ev.start) for ev in evidence)


@dataclass(frozen=True)
class Scored:
    """The metrics of one example."""

    example: Example
    answer: Answer
    hit_rank: int | None
    fact_recall: float
    citations_supported: int

    @property
    def all_facts(self) -> bool:
        return self.fact_recall >= 1.0 - 1e-9


def score(example: Example, answer: Answer, texts: dict[str, str]) -> Scored:
    """Score ``answer`` against ``example``."""
    evidence = locate(example.evidence, texts)
    supported = sum(1 for c in answer.citations if citation_overlaps(c.source, c.start, c.end, evidence))
    return Scored(
        example,
        answer,
        first_hit_rank(answer, evidence) if example.answerable else None,
        key_fact_recall(answer.answer, example.key_facts) if example.answerable and not answer.abstained else 0.0,
        supported,
    )

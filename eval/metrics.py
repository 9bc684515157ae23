"""Scoring one answer against one example: retrieval hits, key facts, citation overlap, abstention."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

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
    """Find each evidence passage in the source texts (first occurrence): verbatim, else as extracted text
    reads it (:func:`_normalised`: compatibility characters, hyphenated line breaks, white space), else,
    for a long passage, from where its opening words are to where its closing words are (a PDF page quoted
    with the running header the loaded text leaves out)."""
    spans = []
    for passage in evidence:
        found = None
        for source, text in texts.items():
            at = text.find(passage)
            if at >= 0:
                found = Span(source, at, at + len(passage))
                break
        if found is None:
            found = _locate_normalised(passage, texts)
        if found is not None:
            spans.append(found)
    return spans


_ANCHOR = 120


def _normalised(text: str) -> tuple[str, list[int]]:
    """``text`` with compatibility characters unfolded, accents, hyphenated line breaks and white space left
    out, and for each character of the result the offset in ``text`` it came from."""
    out: list[str] = []
    where: list[int] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "-" and out and out[-1].isalnum():  # "charac-\nteristics", "charac- teristics"
            j = i + 1
            while j < n and text[j].isspace():
                j += 1
            if j > i + 1 and j < n and text[j].islower():
                i = j
                continue
        if ch.isspace():  # extractors disagree on spaces ("Hyg. ," and "Hyg.,"): match without any
            i += 1
            continue
        for c in unicodedata.normalize("NFKD", ch):
            if not unicodedata.combining(c):  # accents dropped: extractors place them differently
                out.append(c)
                where.append(i)
        i += 1
    return "".join(out), where


@lru_cache(maxsize=16)
def _normalised_cached(text: str) -> tuple[str, list[int]]:
    return _normalised(text)


def _anchored(needle: str, hay: str) -> tuple[int, int] | None:
    """Where most of a long ``needle`` lies in ``hay``: from the first of its opening windows that occurs to
    the last of its closing windows that occurs after it (text around a figure or a running header that
    one extraction has and the other has not), when that covers half to one and a half times its length."""
    step = _ANCHOR // 3
    limit = min(len(needle) // 2, 4 * _ANCHOR)
    for lead in range(0, limit, step):
        a = hay.find(needle[lead : lead + _ANCHOR])
        if a < 0:
            continue
        for back in range(0, limit, step):
            end = len(needle) - back
            b = hay.find(needle[end - _ANCHOR : end], a + 1)
            if b > a and 0.5 * len(needle) <= b + _ANCHOR - a <= 1.5 * len(needle):
                return a, b + _ANCHOR
        return None
    return None


def _locate_normalised(passage: str, texts: dict[str, str]) -> Span | None:
    needle = _normalised(passage)[0].strip()
    if not needle:
        return None
    for source, text in texts.items():
        hay, where = _normalised_cached(text)
        at = hay.find(needle)
        if at >= 0:
            return Span(source, where[at], where[at + len(needle) - 1] + 1)
        if len(needle) >= 2 * _ANCHOR:
            span = _anchored(needle, hay)
            if span is not None:
                return Span(source, where[span[0]], where[span[1] - 1] + 1)
    return None


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
    #: Whether every citation is in a document that holds evidence (None: unanswerable, declined, or no
    #: evidence located).
    right_document: bool | None = None

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
        all(c.source in {e.source for e in evidence} for c in answer.citations)
        if example.answerable and evidence and answer.citations and not answer.abstained
        else None,
    )

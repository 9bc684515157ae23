"""The text of each indexed document, rebuilt from its stored sentences, and the paragraph around a quote.

Citation offsets point into the document text as it was loaded. The store keeps every sentence with its
offsets and paragraph number, so the text can be rebuilt exactly at every sentence, with the white space
between sentences restored as a line break between paragraphs and spaces within one. That works for any
collection, even when the original file has moved or changed since it was indexed.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from index.chunker import Sentence


@dataclass(frozen=True)
class Paragraph:
    """The paragraph (or run of paragraphs) around a quote: ``text`` is ``source_text[start:end]``."""

    start: int
    end: int
    text: str


class SourceTexts:
    """Every source's text and paragraph layout, built once from the corpus sentences."""

    def __init__(self, sentences: Sequence[Sentence]) -> None:
        by_source: dict[str, list[Sentence]] = {}
        for s in sentences:
            by_source.setdefault(s.source, []).append(s)
        self._sentences = {name: sorted(items, key=lambda s: s.start) for name, items in by_source.items()}
        self._starts = {name: [s.start for s in items] for name, items in self._sentences.items()}
        self._texts = {name: _rebuild(items) for name, items in self._sentences.items()}

    @cached_property
    def _folded(self) -> dict[str, tuple[str, np.ndarray[Any, np.dtype[np.int64]]]]:
        """Each text with white space runs made single spaces, and where each of its characters came from
        (built on first use: only a follow-up to a plain-text history needs it)."""
        out = {}
        for name, text in self._texts.items():
            parts: list[str] = []
            origin: list[int] = []
            pos = 0
            for match in re.finditer(r"\s+", text):
                parts.append(text[pos : match.start()] + " ")
                origin.extend(range(pos, match.start() + 1))
                pos = match.end()
            parts.append(text[pos:])
            origin.extend(range(pos, len(text)))
            out[name] = ("".join(parts), np.asarray(origin, dtype=np.int64))
        return out

    def find(self, fragment: str) -> list[tuple[str, int]]:
        """Where ``fragment`` occurs verbatim (white space runs count as one space): ``(source, offset)``."""
        wanted = " ".join(fragment.split())
        hits: list[tuple[str, int]] = []
        for name, (folded, origin) in self._folded.items():
            at = folded.find(wanted)
            while at >= 0 and len(hits) < 20:
                hits.append((name, int(origin[at])))
                at = folded.find(wanted, at + 1)
        return hits

    def sentence_at(self, source: str, offset: int) -> Sentence | None:
        """The sentence of ``source`` that holds character ``offset``."""
        items = self._sentences.get(source, [])
        i = bisect_right(self._starts.get(source, []), offset) - 1
        return items[i] if 0 <= i < len(items) and items[i].start <= offset < items[i].end else None

    def names(self) -> list[str]:
        """The source names, sorted."""
        return sorted(self._texts)

    def text(self, source: str) -> str:
        """The text of ``source`` (exact at every sentence); empty for an unknown source."""
        return self._texts.get(source, "")

    def paragraph(self, source: str, start: int, end: int) -> Paragraph:
        """The whole paragraph(s) that ``[start, end)`` of ``source`` lies in (the span itself if unknown)."""
        items = self._sentences.get(source, [])
        i = max(bisect_right(self._starts.get(source, []), start) - 1, 0)
        while i < len(items) and items[i].end <= start:
            i += 1
        j = i
        while j < len(items) and items[j].start < end:
            j += 1
        if i >= j:
            return Paragraph(start, end, self.text(source)[start:end])
        numbers = {s.paragraph for s in items[i:j]}
        while i > 0 and items[i - 1].paragraph in numbers:
            i -= 1
        while j < len(items) and items[j].paragraph in numbers:
            j += 1
        lo, hi = min(start, items[i].start), max(end, items[j - 1].end)
        return Paragraph(lo, hi, self.text(source)[lo:hi])


def _rebuild(sentences: list[Sentence]) -> str:
    parts: list[str] = []
    pos = 0
    previous: Sentence | None = None
    for s in sentences:
        gap = s.start - pos
        if gap > 0:
            between_paragraphs = previous is None or previous.paragraph != s.paragraph
            parts.append(("\n" if between_paragraphs and previous is not None else " ") * gap)
        parts.append(s.text[max(pos - s.start, 0) :])
        pos = max(pos, s.end)
        previous = s
    return "".join(parts)

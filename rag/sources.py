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

    def find(self, fragment: str, limit: int = 20) -> list[tuple[str, int]]:
        """Where ``fragment`` occurs verbatim, any run of white space matching any other: ``(source, offset)``
        pairs, at most ``limit``."""
        words = fragment.split()
        if not words:
            return []
        pattern = re.compile(r"\s+".join(map(re.escape, words)))
        hits: list[tuple[str, int]] = []
        for name, text in self._texts.items():
            for match in pattern.finditer(text):
                hits.append((name, match.start()))
                if len(hits) >= limit:
                    return hits
        return hits

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

"""The text of each indexed document, rebuilt from its stored sentences, and the paragraph around a quote.

Citation offsets point into the document text as it was loaded. The store keeps every sentence with its
offsets and paragraph number, so the text can be rebuilt exactly at every sentence, with the white space
between sentences restored as a line break between paragraphs and spaces within one. That works for any
collection, even when the original file has moved or changed since it was indexed.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.chunker import Sentence


@dataclass(frozen=True)
class Paragraph:
    """The paragraph (or run of paragraphs) around a quote: ``text`` is ``source_text[start:end]``."""

    start: int
    end: int
    text: str


class SourceTexts:
    """Every source's text and paragraph layout, rebuilt from its sentences when first asked for (the texts
    of the last few sources asked for are kept)."""

    def __init__(self, names: Sequence[str], sentences_of: Callable[[str], Sequence[Sentence]], keep: int = 8) -> None:
        self._names = sorted(names)
        self._sentences_of = sentences_of
        self._keep = keep
        self._built: OrderedDict[str, tuple[list[Sentence], list[int], str]] = OrderedDict()
        self._lock = threading.Lock()

    def _source(self, name: str) -> tuple[list[Sentence], list[int], str]:
        with self._lock:
            if name in self._built:
                self._built.move_to_end(name)
                return self._built[name]
        items = sorted(self._sentences_of(name), key=lambda s: s.start)
        built = (items, [s.start for s in items], _rebuild(items))
        with self._lock:
            self._built[name] = built
            while len(self._built) > self._keep:
                self._built.popitem(last=False)
        return built

    def names(self) -> list[str]:
        """The source names, sorted."""
        return list(self._names)

    def text(self, source: str) -> str:
        """The text of ``source`` (exact at every sentence); empty for an unknown source."""
        return self._source(source)[2]

    def paragraph(self, source: str, start: int, end: int) -> Paragraph:
        """The whole paragraph(s) that ``[start, end)`` of ``source`` lies in (the span itself if unknown)."""
        items, starts, text = self._source(source)
        i = max(bisect_right(starts, start) - 1, 0)
        while i < len(items) and items[i].end <= start:
            i += 1
        j = i
        while j < len(items) and items[j].start < end:
            j += 1
        if i >= j:
            return Paragraph(start, end, text[start:end])
        numbers = {s.paragraph for s in items[i:j]}
        while i > 0 and items[i - 1].paragraph in numbers:
            i -= 1
        while j < len(items) and items[j].paragraph in numbers:
            j += 1
        lo, hi = min(start, items[i].start), max(end, items[j - 1].end)
        return Paragraph(lo, hi, text[lo:hi])


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

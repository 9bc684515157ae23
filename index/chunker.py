"""Split a document into overlapping chunks of whole sentences that know their offsets in the source.

A chunk never cuts a sentence, prefers to end at a paragraph break once it is half full, and repeats the
last sentences of the previous chunk (up to ``overlap`` characters) so that an answer straddling two chunks
is still found whole in one of them. Chunk ids hash the source name, the chunk text and its occurrence
number, so the same file indexed twice yields the same ids and an edited paragraph yields new ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from index.loader import SourceDocument
from index.sentences import Span, split_sentences


@dataclass(frozen=True)
class Chunk:
    """A passage of a source: ``text == source_text[start:end]``."""

    id: str
    source: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Sentence:
    """A sentence of a source, the unit an extractive answer quotes; ``paragraph`` numbers its block."""

    id: str
    source: str
    start: int
    end: int
    text: str
    paragraph: int = 0
    #: Named entities as ``(start, end, label)`` in ``text`` (index time, :mod:`index.analysis`); ``None`` when
    #: the sentence was stored before analysis existed.
    entities: tuple[tuple[int, int, str], ...] | None = None
    #: False for page furniture and reference lists (:mod:`index.formats`): searchable, never quoted.
    quotable: bool = True


def _stable_id(kind: str, source: str, text: str, seen: dict[str, int]) -> str:
    digest = hashlib.sha256(f"{kind}\x00{source}\x00{text}".encode()).hexdigest()[:24]
    n = seen.get(digest, 0)
    seen[digest] = n + 1
    return f"{digest}-{n}"


def _paragraph_break(text: str, a: Span, b: Span) -> bool:
    return a.block != b.block


def _pack(text: str, spans: list[Span], size: int, overlap: int) -> list[tuple[int, int]]:
    """Group consecutive sentence indices into chunks, as ``(first, last_exclusive)`` index pairs."""
    groups: list[tuple[int, int]] = []
    first = 0
    while first < len(spans):
        last = first + 1
        while last < len(spans):
            length = spans[last].end - spans[first].start
            if length > size:
                break
            half_full = spans[last - 1].end - spans[first].start >= size // 2
            if half_full and _paragraph_break(text, spans[last - 1], spans[last]):
                break
            last += 1
        groups.append((first, last))
        if last >= len(spans):
            break
        # Step back over whole sentences worth at most `overlap` characters, but always move forward.
        nxt = last
        while nxt - 1 > first and spans[last - 1].end - spans[nxt - 1].start <= overlap:
            nxt -= 1
        first = nxt
    return groups


def chunk_document(doc: SourceDocument, size: int = 400, overlap: int = 100) -> tuple[list[Chunk], list[Sentence]]:
    """Split ``doc`` into chunks of about ``size`` characters, and return them with the sentences they hold."""
    if size < 50:
        raise ValueError("chunk size must be at least 50 characters")
    if not 0 <= overlap < size:
        raise ValueError("chunk overlap must be at least 0 and smaller than the chunk size")
    text = doc.text
    spans = split_sentences(text)
    seen: dict[str, int] = {}
    furniture = doc.furniture
    sentences = [
        Sentence(
            _stable_id("s", doc.source, text[s:e], seen),
            doc.source,
            s,
            e,
            text[s:e],
            b,
            quotable=not any(a < e and s < z for a, z in furniture),
        )
        for s, e, b in spans
    ]
    chunks = []
    for first, last in _pack(text, spans, size, overlap):
        start, end = spans[first].start, spans[last - 1].end
        chunks.append(
            Chunk(_stable_id("c", doc.source, text[start:end], seen), doc.source, start, end, text[start:end])
        )
    return chunks, sentences

"""The in-memory view of a stored corpus that retrieval and answering share, built once per process."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.chunker import Chunk, Sentence
from index.store import StoredCorpus
from rag.condense import known_people
from rag.retrieve import BM25Index
from rag.text import terms, words


@dataclass
class Corpus:
    """Chunks with their BM25 index, sentences with their vectors, and the people the texts name."""

    chunks: list[Chunk]
    sentences: list[Sentence]
    sentence_vectors: np.ndarray[Any, np.dtype[np.float32]]
    bm25: BM25Index = field(init=False)
    people: dict[str, str] = field(init=False)
    vocabulary: frozenset[str] = field(init=False)
    sentence_terms: list[frozenset[str]] = field(init=False)
    _starts: dict[str, list[int]] = field(init=False)
    _by_source: dict[str, list[int]] = field(init=False)

    def __post_init__(self) -> None:
        self.bm25 = BM25Index(self.chunks)
        self.people = known_people(s.text for s in self.sentences)
        self.sentence_terms = [frozenset(terms(s.text)) for s in self.sentences]
        vocab: set[str] = set()
        for t in self.sentence_terms:
            vocab |= t
        self.vocabulary = frozenset(vocab | {w for s in self.sentences for w in words(s.text)})
        self._by_source = {}
        for i, s in enumerate(self.sentences):
            self._by_source.setdefault(s.source, []).append(i)
        self._starts = {src: [self.sentences[i].start for i in idx] for src, idx in self._by_source.items()}

    @classmethod
    def from_store(cls, stored: StoredCorpus) -> Corpus:
        """Build from what :meth:`index.store.Store.load` read."""
        return cls(stored.chunks, stored.sentences, stored.sentence_vectors)

    def sentences_in(self, source: str, start: int, end: int) -> list[int]:
        """Indices of the sentences lying inside ``[start, end)`` of ``source``."""
        idx = self._by_source.get(source, [])
        starts = self._starts.get(source, [])
        out = []
        for j in range(bisect_left(starts, start), len(idx)):
            s = self.sentences[idx[j]]
            if s.start >= end:
                break
            if s.end <= end:
                out.append(idx[j])
        return out

    def neighbours(self, i: int) -> list[int]:
        """The sentences of the same paragraph just before and after sentence ``i``."""
        s = self.sentences[i]
        out = []
        for j in (i - 1, i + 1):
            if 0 <= j < len(self.sentences):
                t = self.sentences[j]
                if t.source == s.source and t.paragraph == s.paragraph:
                    out.append(j)
        return out

"""Okapi BM25 over chunk texts, in memory: the lexical half of hybrid retrieval."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from index.chunker import Chunk
from rag.text import terms


class BM25Index:
    """Okapi BM25 over chunk texts (k1=1.5, b=0.75), with the corpus vocabulary and IDF exposed."""

    def __init__(self, chunks: Sequence[Chunk], k1: float = 1.5, b: float = 0.75) -> None:
        self.chunks = list(chunks)
        self.k1, self.b = k1, b
        self.doc_terms = [Counter(terms(c.text)) for c in self.chunks]
        self.lengths = np.array([sum(t.values()) for t in self.doc_terms], dtype=np.float64)
        self.avg_length = float(self.lengths.mean()) if len(self.chunks) else 0.0
        df: Counter[str] = Counter()
        for counts in self.doc_terms:
            df.update(counts.keys())
        n = len(self.chunks)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for i, counts in enumerate(self.doc_terms):
            for t, tf in counts.items():
                self.postings.setdefault(t, []).append((i, tf))

    def unseen_idf(self) -> float:
        """The IDF a term that occurs nowhere would get: the weight of a word the corpus never uses."""
        n = len(self.chunks)
        return math.log(1 + (n + 0.5) / 0.5)

    def scores(self, query_terms: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """BM25 score of every chunk for ``query_terms``."""
        out = np.zeros(len(self.chunks))
        if not self.chunks:
            return out
        norm = self.k1 * (1 - self.b + self.b * self.lengths / max(self.avg_length, 1e-9))
        for t in set(query_terms):
            for i, tf in self.postings.get(t, ()):
                out[i] += self.idf[t] * tf * (self.k1 + 1) / (tf + norm[i])
        return out

    def search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        """The top ``k`` chunks with a positive score, best first."""
        scores = self.scores(terms(query))
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.chunks[i], float(scores[i])) for i in order if scores[i] > 0]

"""Okapi BM25 over chunk texts through bm25s (sparse matrices, no Python loop over postings at question time):
the lexical half of hybrid retrieval.

Terms are :func:`rag.text.terms` (stop words out, Snowball stems), so BM25, the answerers' lexical
features and the question analysis all read text the same way. Scores are Lucene's BM25 with the
``(k1 + 1)`` factor of the classic formula, so they equal the textbook Okapi BM25 (k1=1.5, b=0.75).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from index.chunker import Chunk
from rag.text import terms


class BM25Index:
    """Okapi BM25 over chunk texts (k1=1.5, b=0.75), with the corpus vocabulary and IDF exposed."""

    def __init__(self, chunks: Sequence[Chunk], k1: float = 1.5, b: float = 0.75) -> None:
        import bm25s

        self.chunks = list(chunks)
        self.k1, self.b = k1, b
        self._model: Any = None
        self.idf: dict[str, float] = {}
        if not self.chunks:
            return
        model = bm25s.BM25(k1=k1, b=b, method="lucene")
        model.index([terms(c.text) for c in self.chunks], show_progress=False)
        self._model = model
        df = np.diff(model.scores["indptr"])  # documents each term occurs in (the matrix is column-per-term)
        n = len(self.chunks)
        self.idf = {t: math.log(1 + (n - df[j] + 0.5) / (df[j] + 0.5)) for t, j in model.vocab_dict.items() if t}

    def unseen_idf(self) -> float:
        """The IDF a term that occurs nowhere would get: the weight of a word the corpus never uses."""
        n = len(self.chunks)
        return math.log(1 + (n + 0.5) / 0.5)

    def scores(self, query_terms: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """BM25 score of every chunk for ``query_terms``."""
        known = [t for t in dict.fromkeys(query_terms) if t in self.idf]
        if self._model is None or not known:
            return np.zeros(len(self.chunks))
        return np.asarray(self._model.get_scores(known), dtype=np.float64) * (self.k1 + 1)

    def search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        """The top ``k`` chunks with a positive score, best first."""
        scores = self.scores(terms(query))
        if not scores.any():
            return []
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        order = top[np.lexsort((top, -scores[top]))]  # best first; ties by position, as a stable sort would
        return [(self.chunks[i], float(scores[i])) for i in order if scores[i] > 0]

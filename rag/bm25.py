"""Okapi BM25 over chunk texts through bm25s (sparse matrices, no Python loop over postings at question time):
the lexical half of hybrid retrieval.

Terms are :func:`rag.text.terms` (stop words out, Snowball stems), so BM25, the answerers' lexical
features and the question analysis all read text the same way. Scores are Lucene's BM25 with the
``(k1 + 1)`` factor of the classic formula, so they equal the textbook Okapi BM25 (k1=1.5, b=0.75).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.chunker import Chunk
from rag.text import terms


class BM25Index:
    """Okapi BM25 over chunk texts (k1=1.5, b=0.75), with the corpus vocabulary and IDF exposed.

    Built from the chunks (:meth:`build`) at index time and saved (:meth:`save`); a process loads it
    memory-mapped (:meth:`load`), so start-up neither tokenises the chunks nor reads the matrix.
    """

    def __init__(self, chunks: Sequence[Chunk], model: Any = None, k1: float = 1.5, b: float = 0.75) -> None:
        self.chunks = chunks
        self.k1, self.b = k1, b
        self._model = model
        self.idf: dict[str, float] = {}
        if model is not None:
            df = np.diff(model.scores["indptr"])  # documents each term occurs in (the matrix is column-per-term)
            n = len(chunks)
            self.idf = {t: math.log(1 + (n - df[j] + 0.5) / (df[j] + 0.5)) for t, j in model.vocab_dict.items() if t}

    @classmethod
    def build(cls, chunks: Sequence[Chunk], k1: float = 1.5, b: float = 0.75) -> BM25Index:
        """The index of ``chunks``' texts."""
        if not len(chunks):
            return cls(chunks, None, k1, b)
        import bm25s

        model = bm25s.BM25(k1=k1, b=b, method="lucene")
        model.index([terms(c.text) for c in chunks], show_progress=False)
        return cls(chunks, model, k1, b)

    def save(self, folder: Path) -> None:
        """Write the index to ``folder`` (bm25s's own files)."""
        if self._model is not None:
            self._model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, chunks: Sequence[Chunk]) -> BM25Index:
        """The index :meth:`save` wrote, its matrix memory-mapped; ``chunks`` are what its rows stand for."""
        if not (folder / "params.index.json").exists():
            return cls(chunks)
        import bm25s

        model = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        return cls(chunks, model, float(model.k1), float(model.b))

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

"""Hybrid retrieval as LangChain retrievers: dense (Chroma), BM25, and their reciprocal-rank fusion.

Each retriever returns LangChain ``Document`` objects whose metadata carries ``id``, ``source``, ``start``
and ``end`` (offsets into the source text) and a ``score``, so they plug into any LangChain chain.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from langchain_chroma import Chroma
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from index.chunker import Chunk
from rag.text import terms

RRF_K = 60


def chunk_document(chunk: Chunk, score: float) -> Document:
    """A chunk as a LangChain ``Document`` with its offsets in the metadata."""
    meta = {"id": chunk.id, "source": chunk.source, "start": chunk.start, "end": chunk.end, "score": score}
    return Document(page_content=chunk.text, metadata=meta, id=chunk.id)


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


class BM25Retriever(BaseRetriever):
    """Lexical retrieval over the stored chunks."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    index: BM25Index
    k: int = 4

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [chunk_document(c, s) for c, s in self.index.search(query, self.k)]


class DenseRetriever(BaseRetriever):
    """Embedding similarity search in the Chroma collection; ``score`` is the cosine similarity."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    vectorstore: Chroma
    k: int = 4

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        embeddings = self.vectorstore.embeddings
        assert embeddings is not None
        vector = embeddings.embed_query(query)
        hits = self.vectorstore.similarity_search_by_vector_with_relevance_scores(vector, k=self.k)
        docs = []
        for doc, distance in hits:
            meta = {k: doc.metadata[k] for k in ("source", "start", "end")}
            meta.update(id=doc.id, score=1.0 - float(distance))
            docs.append(Document(page_content=doc.page_content, metadata=meta, id=doc.id))
        return docs


class HybridRetriever(BaseRetriever):
    """Reciprocal rank fusion of several retrievers: ``score = sum(1 / (RRF_K + rank))``."""

    retrievers: list[BaseRetriever]
    k: int = 4
    candidates: int = 20
    rrf_k: int = RRF_K

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        fused: dict[str, float] = {}
        docs: dict[str, Document] = {}
        for retriever in self.retrievers:
            results = retriever.invoke(query, config={"callbacks": run_manager.get_child()})
            for rank, doc in enumerate(results, start=1):
                key = str(doc.metadata["id"])
                fused[key] = fused.get(key, 0.0) + 1.0 / (self.rrf_k + rank)
                docs.setdefault(key, doc)
        best = sorted(fused, key=lambda key: (-fused[key], docs[key].metadata["start"]))[: self.k]
        out = []
        for key in best:
            doc = docs[key]
            meta = dict(doc.metadata, score=fused[key])
            out.append(Document(page_content=doc.page_content, metadata=meta, id=doc.id))
        return out

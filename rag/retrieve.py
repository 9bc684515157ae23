"""Hybrid retrieval as LangChain retrievers: dense (Chroma), BM25, and their weighted reciprocal-rank fusion.

Each retriever returns LangChain ``Document`` objects whose metadata carries ``id``, ``source``, ``start``
and ``end`` (offsets into the source text) and a ``score``, so they plug into any LangChain chain.

Dense scoring looks at two granularities in Chroma: the chunk vector, and the best-matching sentence inside
the chunk. MiniLM was trained on sentence pairs, so a question matches the one sentence that answers it far
better than a 400-character passage that also talks about other things; the mean of the two is more robust
than either (measured on both shipped datasets, see ``eval/``).
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_chroma import Chroma
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from index.chunker import Chunk
from rag.corpus import Corpus

#: Reciprocal-rank constant. Small, because the lists are short and their heads matter most.
RRF_K = 10
#: How much each retriever counts in the fusion: BM25 first, since exact names and numbers decide most
#: questions about a news article; dense recovers paraphrases.
BM25_WEIGHT = 0.7
DENSE_WEIGHT = 0.3


def chunk_document(chunk: Chunk, score: float) -> Document:
    """A chunk as a LangChain ``Document`` with its offsets in the metadata."""
    meta = {"id": chunk.id, "source": chunk.source, "start": chunk.start, "end": chunk.end, "score": score}
    return Document(page_content=chunk.text, metadata=meta, id=chunk.id)


class BM25Retriever(BaseRetriever):
    """Lexical retrieval over the stored chunks."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    corpus: Corpus
    k: int = 4

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [chunk_document(c, s) for c, s in self.corpus.bm25.search(query, self.k)]


class DenseRetriever(BaseRetriever):
    """Embedding search in Chroma over chunks and over sentences; ``score`` is a cosine similarity."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    chunks: Chroma
    sentences: Chroma
    corpus: Corpus
    k: int = 4

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        embeddings = self.chunks.embeddings
        assert embeddings is not None
        return self.search_by_vector(embeddings.embed_query(query))

    def search_by_vector(self, vector: Sequence[float]) -> list[Document]:
        """The top ``k`` chunks for a query already embedded (the chain embeds each question once)."""
        vector = [float(x) for x in vector]
        chunk_sim = {
            str(doc.id): 1.0 - float(dist)
            for doc, dist in self.chunks.similarity_search_by_vector_with_relevance_scores(vector, k=self.k)
        }
        sent_hits = self.sentences.similarity_search_by_vector_with_relevance_scores(vector, k=3 * self.k)
        best_sentence: dict[str, float] = {}
        for doc, dist in sent_hits:
            meta = doc.metadata
            for chunk in self.corpus.chunks_holding(meta["source"], int(meta["start"]), int(meta["end"])):
                best_sentence.setdefault(chunk.id, 1.0 - float(dist))
        # What is not in a top list scores no better than the last one in it.
        floor_chunk = min(chunk_sim.values(), default=0.0)
        floor_sentence = min(best_sentence.values(), default=0.0)
        scores = {
            cid: 0.5 * chunk_sim.get(cid, floor_chunk) + 0.5 * best_sentence.get(cid, floor_sentence)
            for cid in chunk_sim.keys() | best_sentence.keys()
        }
        # A chunk the corpus does not hold belongs to a document whose ingest is not finished: never served.
        ranked = sorted((cid for cid in scores if self.corpus.has_chunk(cid)), key=lambda cid: -scores[cid])
        return [chunk_document(self.corpus.chunk(cid), scores[cid]) for cid in ranked[: self.k]]


class HybridRetriever(BaseRetriever):
    """Weighted reciprocal rank fusion: ``score = sum(weight / (RRF_K + rank))`` over the retrievers."""

    retrievers: list[BaseRetriever]
    weights: list[float]
    k: int = 4
    rrf_k: int = RRF_K

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        lists = [r.invoke(query, config={"callbacks": run_manager.get_child()}) for r in self.retrievers]
        return self.fuse(lists)

    def retrieve(self, query: str, vector: Sequence[float]) -> list[Document]:
        """Like ``invoke(query)``, with the query's vector given (dense retrievers search by it; nothing is
        embedded here)."""
        lists = [
            r.search_by_vector(vector) if isinstance(r, DenseRetriever) else r.invoke(query) for r in self.retrievers
        ]
        return self.fuse(lists)

    def fuse(self, lists: Sequence[Sequence[Document]]) -> list[Document]:
        """The weighted reciprocal-rank fusion of the retrievers' result lists, best ``k`` first."""
        fused: dict[str, float] = {}
        docs: dict[str, Document] = {}
        for results, weight in zip(lists, self.weights, strict=True):
            for rank, doc in enumerate(results, start=1):
                key = str(doc.metadata["id"])
                fused[key] = fused.get(key, 0.0) + weight / (self.rrf_k + rank)
                docs.setdefault(key, doc)
        best = sorted(fused, key=lambda key: (-fused[key], docs[key].metadata["start"]))[: self.k]
        return [
            Document(page_content=docs[key].page_content, metadata=dict(docs[key].metadata, score=fused[key]), id=key)
            for key in best
        ]


def hybrid_retriever(
    corpus: Corpus, chunks: Chroma, sentences: Chroma, k: int, candidates: int = 20
) -> HybridRetriever:
    """The product's retriever: BM25 and dense, each over ``candidates`` chunks, fused down to ``k``."""
    n = max(candidates, k)
    return HybridRetriever(
        retrievers=[
            BM25Retriever(corpus=corpus, k=n),
            DenseRetriever(chunks=chunks, sentences=sentences, corpus=corpus, k=n),
        ],
        weights=[BM25_WEIGHT, DENSE_WEIGHT],
        k=k,
    )

"""The systems a benchmark compares: the product, and baselines built from the same pieces.

Every system answers ``(question, history)`` with an :class:`~core.contract.Answer`, so one scorer serves all.
The baselines answer with the top retrieved passage and cite that whole passage; they decline only when
retrieval returns nothing (BM25 finds no word of the question):

``bm25``                BM25 alone over the product's chunks (the lexical half of its hybrid retrieval)
``dense``               dense retrieval alone over the product's chunk and sentence vectors in Chroma
``langchain-tutorial``  the plain LangChain tutorial pipeline: ``RecursiveCharacterTextSplitter`` 1000/200,
                        the same MiniLM model, Chroma similarity search, k=4

Baselines take the question as typed: a plain pipeline has no memory, so follow-ups are where the product's
condenser should show.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.documents import Document

from core.contract import ABSTAIN_MESSAGE, Answer, Citation, Draft
from core.errors import InputError
from eval import BASELINES
from index.loader import SourceDocument
from index.store import open_client
from rag.answerers.base import Answerer, AnswerRequest
from rag.chain import Assistant, build_answer, clean_question
from rag.config import Settings
from rag.retrieve import BM25Retriever, DenseRetriever

TUTORIAL_CHUNK_SIZE = 1000
TUTORIAL_CHUNK_OVERLAP = 200
TUTORIAL_K = 4

Search = Callable[[str], list[Document]]


class System(Protocol):
    """Anything the benchmark can ask."""

    name: str

    @property
    def config(self) -> dict[str, Any]:
        """What the system is, for the report."""

    def ask(self, question: str, history: Sequence[Sequence[str | None]] | None = None) -> Answer:
        """Answer one question."""


class TopPassageAnswerer(Answerer):
    """The baseline answer: the first retrieved passage, cited whole."""

    name = "top-passage"

    def answer(self, request: AnswerRequest) -> Draft:
        """Quote the top passage, or say nothing was found when retrieval returned nothing."""
        if not request.passages:
            return Draft(ABSTAIN_MESSAGE, abstained=True)
        top = request.passages[0]
        meta = top.metadata
        cite = Citation(1, meta["source"], int(meta["start"]), int(meta["end"]), top.page_content, 1.0)
        return Draft(f"{' '.join(top.page_content.split())} [1]", abstained=False, citations=[cite], confidence=1.0)


@dataclass
class Product:
    """The product's own chain, under the name the benchmark shows."""

    assistant: Assistant
    name: str = "product"

    @property
    def config(self) -> dict[str, Any]:
        """What this system is, for the report."""
        s = self.assistant.settings
        return {
            "retrieval": "hybrid: BM25 + dense, weighted RRF",
            "chunks": f"whole sentences {s.chunk_size}/{s.chunk_overlap}",
            "k": s.k,
            "answer": f"{self.assistant.answerer.name} (may decline)",
            "follow-ups": "condensed",
        }

    def ask(self, question: str, history: Sequence[Sequence[str | None]] | None = None) -> Answer:
        """Ask the chain."""
        return self.assistant.ask(question, history)


@dataclass
class TopPassagePipeline:
    """Retrieve with ``search``, answer with the top passage; timed like the product."""

    name: str
    search: Search
    config: dict[str, Any]
    answerer: Answerer = field(default_factory=TopPassageAnswerer)

    def ask(self, question: str, history: Sequence[Sequence[str | None]] | None = None) -> Answer:
        """Answer ``question`` as typed (``history`` is ignored: these pipelines have no memory)."""
        text = clean_question(question)
        t0 = time.perf_counter()
        docs = self.search(text)
        t1 = time.perf_counter()
        draft = self.answerer.answer(AnswerRequest(text, docs))
        return build_answer(text, docs, draft, self.name, [t0, t1, time.perf_counter()])


def tutorial_chunks(docs: Sequence[SourceDocument]) -> list[Document]:
    """Split like the LangChain tutorial (1000/200, ``add_start_index``), with exact offsets in the metadata."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=TUTORIAL_CHUNK_SIZE, chunk_overlap=TUTORIAL_CHUNK_OVERLAP, add_start_index=True
    )
    out = []
    for doc in docs:
        for piece in splitter.create_documents([doc.text], metadatas=[{"source": doc.source}]):
            start = int(piece.metadata["start_index"])
            if start < 0 or doc.text[start : start + len(piece.page_content)] != piece.page_content:
                start = doc.text.find(piece.page_content)  # the splitter's own search lost its place
            if start < 0:
                raise AssertionError(f"a tutorial chunk of {doc.source} is not in its text")
            end = start + len(piece.page_content)
            digest = hashlib.sha256(f"{doc.source}\x00{start}\x00{piece.page_content}".encode()).hexdigest()[:24]
            meta = {"id": digest, "source": doc.source, "start": start, "end": end}
            out.append(Document(page_content=piece.page_content, metadata=meta, id=digest))
    return out


def tutorial_search(settings: Settings, collection: str, docs: Sequence[SourceDocument]) -> Search:
    """Index the tutorial's chunks into their own Chroma collection (once) and return its top-4 search."""
    from langchain_chroma import Chroma

    from index.embeddings import get_embeddings

    chunks = tutorial_chunks(docs)
    embeddings = get_embeddings(settings.embedding_model, settings.threads, settings.embedding_backend)
    client = open_client(settings.store, settings.chroma_url)
    store = Chroma(client=client, collection_name=collection, embedding_function=embeddings)
    if set(store.get(include=[])["ids"]) != {str(c.id) for c in chunks}:
        store.reset_collection()
        store.add_documents(chunks, ids=[str(c.id) for c in chunks])

    def search(query: str) -> list[Document]:
        hits = store.similarity_search_with_score(query, k=TUTORIAL_K)
        # Chroma's default space is squared L2; on unit vectors that is 2 - 2 cos.
        return [Document(d.page_content, metadata=dict(d.metadata, score=1.0 - s / 2), id=d.id) for d, s in hits]

    return search


def make_systems(
    assistant: Assistant, docs: Sequence[SourceDocument], tutorial_collection: str, baselines: Sequence[str]
) -> list[System]:
    """The product, then the named baselines (reusing the product's chunks, vectors and model)."""
    k = assistant.settings.k
    systems: list[System] = [Product(assistant)]
    store = assistant.store
    for name in baselines:
        if name == "bm25":
            search: Search = BM25Retriever(corpus=assistant.corpus, k=k).invoke
            retrieval, chunks = "BM25", "the product's"
        elif name == "dense":
            dense = DenseRetriever(
                chunks=store.vectorstore(), sentences=store.vectorstore(sentences=True), corpus=assistant.corpus, k=k
            )
            search, retrieval, chunks = dense.invoke, "dense: MiniLM, chunk + sentence vectors", "the product's"
        elif name == "langchain-tutorial":
            search = tutorial_search(assistant.settings, tutorial_collection, docs)
            retrieval = "Chroma similarity search, MiniLM"
            chunks = f"RecursiveCharacterTextSplitter {TUTORIAL_CHUNK_SIZE}/{TUTORIAL_CHUNK_OVERLAP}"
        else:
            raise InputError(f"unknown baseline {name!r}; choose from: {', '.join(BASELINES)}")
        config = {
            "retrieval": retrieval,
            "chunks": chunks,
            "k": TUTORIAL_K if name == "langchain-tutorial" else k,
            "answer": "top passage (declines only if nothing is retrieved)",
            "follow-ups": "as typed",
        }
        systems.append(TopPassagePipeline(name, search, config))
    return systems

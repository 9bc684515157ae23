"""The answer chain: condense the follow-up, embed once, retrieve (hybrid), answer, and time each step.

One turn is one :class:`TurnState`: the cleaned question and history, how the question was understood, its
one embedding call (the question and any probe texts the answerer asked for, in one batch), the retrieved
passages and the request handed to the answerer. Nothing is computed twice.
"""

from __future__ import annotations

import contextlib
import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Literal

import numpy as np
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

from core.contract import MAX_QUESTION_CHARS, Answer, Draft, Passage, Turn, to_turns
from core.errors import InputError, RagError, StoreError
from rag.answerers import AnswerRequest, make_answerer
from rag.condense import Condensed, condense
from rag.config import Settings
from rag.corpus import Corpus
from rag.ingest import store_for
from rag.retrieve import hybrid_retriever
from rag.wording import Wording, wording_for

CANDIDATES = 20
#: Earlier answers whose quotes a follow-up may lean on.
QUOTED_TURNS = 3


@dataclass(frozen=True)
class StreamEvent:
    """One step of a streamed answer: a piece of text, or (last) the whole answer object."""

    kind: Literal["token", "answer"]
    text: str = ""
    answer: Answer | None = None


def build_answer(
    question: str,
    docs: Sequence[Document],
    draft: Draft,
    backend: str,
    times: Sequence[float],
    standalone: str | None = None,
) -> Answer:
    """Wrap an answerer's draft, the retrieved documents and the ``(start, retrieved, answered)`` clock
    readings into the answer contract."""
    t0, t1, t2 = times
    retrieved = [
        Passage(
            d.metadata["source"],
            int(d.metadata["start"]),
            int(d.metadata["end"]),
            d.page_content,
            round(float(d.metadata.get("score", 0.0)), 4),
        )
        for d in docs
    ]
    return Answer(
        question=question,
        answer=draft.answer,
        abstained=draft.abstained,
        citations=draft.citations,
        retrieved=retrieved,
        backend=backend,
        timings_ms={
            "retrieve": round((t1 - t0) * 1000, 2),
            "answer": round((t2 - t1) * 1000, 2),
            "total": round((t2 - t0) * 1000, 2),
        },
        standalone_question=standalone,
        sentences=draft.sentences,
    )


def clean_question(question: Any) -> str:
    """The question with control characters removed; :class:`InputError` if empty or too long."""
    if not isinstance(question, str):
        raise InputError("the question must be text")
    if len(question) > 2 * MAX_QUESTION_CHARS:  # before any work per character
        raise InputError(f"the question is {len(question):,} characters long; the limit is {MAX_QUESTION_CHARS:,}")
    text = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in "\t\n" else " " for ch in question).strip()
    if not text:
        raise InputError("the question is empty; type a question about the documents")
    if len(text) > MAX_QUESTION_CHARS:
        raise InputError(f"the question is {len(text):,} characters long; the limit is {MAX_QUESTION_CHARS:,}")
    return text


def clean_history(history: Any) -> list[Turn]:
    """Validate a history (``[user, assistant]`` pairs or answer objects, oldest first) into turns."""
    return to_turns(history)


@dataclass(frozen=True)
class TurnState:
    """Everything one turn works out, once: the cleaned question, the standalone question, the retrieved
    passages and the request the answerer gets. ``started`` and ``retrieved_at`` are ``time.perf_counter``
    readings."""

    question: str
    condensed: Condensed
    passages: list[Document]
    request: AnswerRequest
    started: float
    retrieved_at: float


@contextlib.contextmanager
def reading_store() -> Iterator[None]:
    """Turn a failure of the store while answering (Chroma's errors, a damaged or vanished database file)
    into a :class:`StoreError` that says so, so every face reports it as a message (the API as 503)."""
    import sqlite3

    from chromadb.errors import ChromaError

    try:
        yield
    except RagError:
        raise
    except (ChromaError, sqlite3.Error, OSError) as exc:
        raise StoreError(
            f"the store could not be read while answering ({type(exc).__name__}: {exc}); nothing was changed: "
            "try again, and if it persists check the store (rag docs list) or the Chroma server"
        ) from exc


class Assistant:
    """Answers questions about one collection. Build once (the model and store load here), ask many times.

    The collection must exist: the faces (CLI, app) index the bundled article on first use, with a message,
    before they build an assistant (:func:`rag.ingest.ensure_collection`).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        store = store_for(settings)
        if not store.exists():
            listing = ", ".join(store.collection_names()) or "none"
            raise StoreError(
                f"no collection {settings.collection!r} in the store at {settings.store} "
                f"(collections: {listing}); create it with: rag index --collection {settings.collection} FILE"
            )
        self.store = store.open()
        self.corpus = Corpus.open(store)
        if not self.corpus.chunks:
            raise StoreError(f"collection {settings.collection!r} is empty; add documents with: rag index FILE")
        self.embeddings = store.embeddings
        self.answerer = make_answerer(settings, self.corpus)
        self.retriever = hybrid_retriever(
            self.corpus,
            store.vectorstore(),
            store.vectorstore(sentences=True),
            max(settings.k, self.answerer.pool),
            CANDIDATES,
        )

    @cached_property
    def wording(self) -> Wording:
        """How this collection is presented: title, placeholder, example questions, abstention message."""
        return wording_for(self.corpus)

    def prepare(self, question: Any, history: Any = None) -> TurnState:
        """Clean the inputs, condense the follow-up, embed once, retrieve: everything before answering."""
        text = clean_question(question)
        turns = clean_history(history)
        t0 = time.perf_counter()
        condensed = condense(text, turns, self.corpus.people)
        query = self.corpus.lexicon.spelled(condensed.query)  # typos of the document's words corrected
        texts = list(dict.fromkeys([query, *self.answerer.probes(condensed.question)]))
        vectors = dict(zip(texts, self.embeddings.encode(texts), strict=True))  # the turn's one embedding call
        docs = self.retriever.retrieve(query, vectors[query])
        request = AnswerRequest(
            condensed.question,
            docs,
            condensed.context,
            vectors[query],
            vectors,
            self.corpus.quoted(turns[-QUOTED_TURNS:]),
        )
        return TurnState(text, condensed, docs[: self.settings.k], request, t0, time.perf_counter())

    def _finish(self, state: TurnState, draft: Draft) -> Answer:
        standalone = state.condensed.question if state.condensed.question != state.question else None
        notice = self._steering_notice(state.request)
        if notice:  # the question is about text addressed to the assistant: say so, quote and follow nothing
            draft = Draft("", abstained=True, confidence=draft.confidence)
        if draft.abstained:  # in the collection's words ("The documents don't say.")
            draft.answer = " ".join([self.wording.abstain, *notice])
        if self.corpus.pages:  # a PDF's citations carry their page
            draft.citations = [replace(c, page=self.corpus.page_of(c.source, c.start)) for c in draft.citations]
        times = [state.started, state.retrieved_at, time.perf_counter()]
        return build_answer(state.question, state.passages, draft, self.answerer.name, times, standalone)

    def _steering_notice(self, request: AnswerRequest) -> list[str]:
        """When the passage sentence closest to the question addresses the assistant (:mod:`rag.steering`),
        the question is about that text: a sentence saying so and where it is, without repeating it (the
        answer then declines: what the document contains is told, what it asks is not done, and its links,
        words or numbers never reach the answer)."""
        pool = list(
            dict.fromkeys(
                i
                for d in request.passages
                for i in self.corpus.sentences_in(
                    d.metadata["source"], int(d.metadata["start"]), int(d.metadata["end"])
                )
            )
        )
        if request.query_vector is None or not any(self.corpus.steers(i) for i in pool):
            return []
        best = pool[int(np.argmax(self.corpus.sentence_vectors[pool] @ request.query_vector))]
        if not self.corpus.steers(best):
            return []
        s = self.corpus.sentences[best]
        page = self.corpus.page_of(s.source, s.start)
        where = f"{s.source}, page {page}" if page else f"{s.source}, characters {s.start:,}-{s.end:,}"
        return [
            f"The passage closest to the question ({where}) reads as an instruction to an AI assistant, not as "
            "information, so it is neither quoted as an answer nor followed."
        ]

    def ask(self, question: str, history: Sequence[Any] | None = None) -> Answer:
        """Answer ``question`` (a follow-up to ``history`` if given) under the answer contract."""
        with reading_store():
            state = self.prepare(question, history)
            return self._finish(state, self.answerer.answer(state.request))

    def stream(self, question: str, history: Sequence[Any] | None = None) -> Iterator[StreamEvent]:
        """Answer like :meth:`ask`, yielding the answer text as it is produced, then the final :class:`Answer`.

        Every event but the last is ``StreamEvent("token", text=...)``; the last is
        ``StreamEvent("answer", answer=...)``, whose ``answer.answer`` is authoritative (an LLM answer may be
        revised by citation checks after its tokens were shown).
        """
        with reading_store():
            state = self.prepare(question, history)
            draft: Draft | None = None
            for piece in self.answerer.stream(state.request):
                if isinstance(piece, Draft):
                    draft = piece
                else:
                    yield StreamEvent("token", text=piece)
            assert draft is not None, "an answerer's stream must end with its Draft"
            yield StreamEvent("answer", answer=self._finish(state, draft))

    def as_runnable(self) -> RunnableLambda[dict[str, Any], dict[str, Any]]:
        """The chain as a LangChain ``Runnable`` taking ``{"question", "history"}`` and returning the contract."""
        return RunnableLambda(lambda x: self.ask(x["question"], x.get("history")).to_dict())

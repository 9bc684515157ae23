"""The answer chain: condense the follow-up, retrieve (hybrid), answer, and time each step."""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

from index import BUNDLED_ARTICLE, index_paths, open_store
from rag.answerers import AnswerRequest, Draft, make_answerer
from rag.condense import Condensed, condense
from rag.config import Settings
from rag.contract import Answer, Passage
from rag.corpus import Corpus
from rag.errors import InputError, StoreError
from rag.retrieve import hybrid_retriever

MAX_QUESTION_CHARS = 2000
MAX_HISTORY_TURNS = 50
CANDIDATES = 20


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
    text = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in "\t\n" else " " for ch in question).strip()
    if not text:
        raise InputError("the question is empty; type a question about the article")
    if len(text) > MAX_QUESTION_CHARS:
        raise InputError(f"the question is {len(text):,} characters long; the limit is {MAX_QUESTION_CHARS:,}")
    return text


def clean_history(history: Any) -> list[tuple[str, str | None]]:
    """Validate ``[[user, assistant], ...]``; keep the most recent turns."""
    if history is None:
        return []
    if not isinstance(history, list | tuple):
        raise InputError("history must be a list of [question, answer] pairs")
    turns: list[tuple[str, str | None]] = []
    for turn in history[-MAX_HISTORY_TURNS:]:
        if not isinstance(turn, list | tuple) or len(turn) != 2:
            raise InputError("each history entry must be a [question, answer] pair")
        user, assistant = turn
        if not isinstance(user, str) or not (assistant is None or isinstance(assistant, str)):
            raise InputError("history entries must hold text (the answer may be null)")
        turns.append((user[:MAX_QUESTION_CHARS], assistant))
    return turns


class Assistant:
    """Answers questions about one collection. Build once (models and store load here), ask many times."""

    def __init__(self, settings: Settings, auto_index: bool = True) -> None:
        self.settings = settings
        store = open_store(settings)
        if not store.exists():
            others = store.collection_names()
            if others or not auto_index:
                listing = ", ".join(others) or "none"
                raise StoreError(
                    f"no collection {settings.collection!r} in the store at {settings.store} "
                    f"(collections: {listing}); create it with: rag index --collection {settings.collection} FILE"
                )
            index_paths([BUNDLED_ARTICLE], settings)
        self.store = store.open()
        self.corpus = Corpus.from_store(store.load())
        if not self.corpus.chunks:
            raise StoreError(f"collection {settings.collection!r} is empty; add documents with: rag index FILE")
        self.embeddings = store.embeddings
        self.retriever = hybrid_retriever(
            self.corpus, store.vectorstore(), store.vectorstore(sentences=True), settings.k, CANDIDATES
        )
        self.answerer = make_answerer(settings, self.corpus, self.embeddings.embed_query)

    def _prepare(self, question: str, history: Any) -> tuple[str, Condensed, list[Document], AnswerRequest, float]:
        text = clean_question(question)
        turns = clean_history(history)
        t0 = time.perf_counter()
        condensed = condense(text, turns, self.corpus.people)
        docs = self.retriever.invoke(condensed.query)
        vector = np.asarray(self.embeddings.embed_query(condensed.query), dtype=np.float32)
        said = tuple(a for _, a in turns[-3:] if a)
        return text, condensed, docs, AnswerRequest(condensed.question, docs, condensed.context, vector, said), t0

    def _finish(
        self, text: str, condensed: Condensed, docs: list[Document], draft: Draft, times: list[float]
    ) -> Answer:
        standalone = condensed.question if condensed.question != text else None
        return build_answer(text, docs, draft, self.answerer.name, times, standalone)

    def ask(self, question: str, history: Sequence[Sequence[str | None]] | None = None) -> Answer:
        """Answer ``question`` (a follow-up to ``history`` if given) under the answer contract."""
        text, condensed, docs, request, t0 = self._prepare(question, history)
        t1 = time.perf_counter()
        draft = self.answerer.answer(request)
        return self._finish(text, condensed, docs, draft, [t0, t1, time.perf_counter()])

    def stream(self, question: str, history: Sequence[Sequence[str | None]] | None = None) -> Iterator[StreamEvent]:
        """Answer like :meth:`ask`, yielding the answer text as it is produced, then the final :class:`Answer`.

        Every event but the last is ``StreamEvent("token", text=...)``; the last is
        ``StreamEvent("answer", answer=...)``, whose ``answer.answer`` is authoritative (an LLM answer may be
        revised by citation checks after its tokens were shown).
        """
        text, condensed, docs, request, t0 = self._prepare(question, history)
        t1 = time.perf_counter()
        draft: Draft | None = None
        for piece in self.answerer.stream(request):
            if isinstance(piece, Draft):
                draft = piece
            else:
                yield StreamEvent("token", text=piece)
        assert draft is not None, "an answerer's stream must end with its Draft"
        yield StreamEvent("answer", answer=self._finish(text, condensed, docs, draft, [t0, t1, time.perf_counter()]))

    def as_runnable(self) -> RunnableLambda[dict[str, Any], dict[str, Any]]:
        """The chain as a LangChain ``Runnable`` taking ``{"question", "history"}`` and returning the contract."""
        return RunnableLambda(lambda x: self.ask(x["question"], x.get("history")).to_dict())

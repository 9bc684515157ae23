"""The one interface every answerer implements, and the request it answers."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_core.documents import Document

from core.contract import Draft
from rag.corpus import Corpus

Vector = np.ndarray[Any, np.dtype[np.float32]]


@dataclass(frozen=True)
class AnswerRequest:
    """What an answerer gets: the standalone question, any carried-over context, and the passages.

    ``query_vector`` is the question embedded once by the chain; ``probe_vectors`` maps each text embedded
    in that one call (the query and the texts the answerer asked for with :meth:`Answerer.probes`) to its
    vector. ``previous`` are the sentences (indices into ``Corpus.sentences``) the last answers of the
    conversation quoted.
    """

    question: str
    passages: list[Document]
    context: str = ""
    query_vector: Vector | None = None
    probe_vectors: Mapping[str, Vector] = field(default_factory=dict)
    previous: tuple[int, ...] = ()


def candidate_sentences(corpus: Corpus, passages: list[Document]) -> dict[int, int]:
    """The sentences of the retrieved ``passages`` (indices into ``corpus.sentences``), each mapped to the
    rank of the first passage that holds it; a planted instruction, page furniture or a reference list is
    never a candidate answer."""
    seen: dict[int, int] = {}
    for rank, doc in enumerate(passages):
        meta = doc.metadata
        for i in corpus.sentences_in(meta["source"], int(meta["start"]), int(meta["end"])):
            if i not in seen and corpus.usable(i):
                seen[i] = rank
    return seen


class Answerer(ABC):
    """Answers a question from retrieved passages, citing exact spans of the sources."""

    name: str
    #: Passages this answerer reads per question, when more than the ``k`` the answer shows (0: just ``k``).
    #: The chain retrieves ``max(k, pool)``; the answer's ``retrieved`` keeps the first ``k``.
    pool: int = 0

    @abstractmethod
    def answer(self, request: AnswerRequest) -> Draft:
        """Answer ``request`` or abstain."""

    def probes(self, question: str) -> list[str]:
        """Texts besides the question this answerer wants embedded for ``question`` (in the chain's one
        embedding call per turn); none by default."""
        return []

    def stream(self, request: AnswerRequest) -> Iterator[str | Draft]:
        """Yield the answer text in pieces as it is produced, then the final :class:`Draft`.

        The default answers at once and replays the text word by word (nothing for a decline, whose words
        the chain chooses); LLM backends override it to pass tokens through as the model writes them.
        """
        draft = self.answer(request)
        if not draft.abstained:  # a decline is worded by the chain, in the collection's words
            for match in re.finditer(r"\S+\s*", draft.answer):
                yield match.group(0)
        yield draft

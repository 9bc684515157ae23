"""The one interface every answerer implements."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_core.documents import Document

from rag.contract import Citation, SentenceCheck

#: Embeds one text with the retriever's model (a normalised vector).
EmbedQuery = Callable[[str], list[float]]


@dataclass(frozen=True)
class AnswerRequest:
    """What an answerer gets: the standalone question, any carried-over context, and the passages."""

    question: str
    passages: list[Document]
    context: str = ""
    query_vector: np.ndarray[Any, np.dtype[np.float32]] | None = None
    #: What the assistant already answered earlier in the conversation (not to be repeated as new).
    said: tuple[str, ...] = ()


@dataclass
class Draft:
    """An answerer's output before the chain wraps it into an :class:`~rag.contract.Answer`."""

    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    confidence: float = 0.0
    sentences: list[SentenceCheck] = field(default_factory=list)


class Answerer(ABC):
    """Answers a question from retrieved passages, citing exact spans of the sources."""

    name: str

    @abstractmethod
    def answer(self, request: AnswerRequest) -> Draft:
        """Answer ``request`` or abstain."""

    def stream(self, request: AnswerRequest) -> Iterator[str | Draft]:
        """Yield the answer text in pieces as it is produced, then the final :class:`Draft`.

        The default answers at once and replays the text word by word; LLM backends override it to pass
        tokens through as the model writes them.
        """
        draft = self.answer(request)
        for match in re.finditer(r"\S+\s*", draft.answer):
            yield match.group(0)
        yield draft

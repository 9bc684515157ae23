"""The one interface every answerer implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_core.documents import Document

from rag.contract import Citation


@dataclass(frozen=True)
class AnswerRequest:
    """What an answerer gets: the standalone question, any carried-over context, and the passages."""

    question: str
    passages: list[Document]
    context: str = ""
    query_vector: np.ndarray[Any, np.dtype[np.float32]] | None = None


@dataclass
class Draft:
    """An answerer's output before the chain wraps it into an :class:`~rag.contract.Answer`."""

    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    confidence: float = 0.0


class Answerer(ABC):
    """Answers a question from retrieved passages, citing exact spans of the sources."""

    name: str

    @abstractmethod
    def answer(self, request: AnswerRequest) -> Draft:
        """Answer ``request`` or abstain."""

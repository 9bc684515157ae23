"""The answer contract: the one object every surface (CLI, HTTP, Gradio API, Python) returns.

See DESIGN.md. ``Citation.quote`` is always exactly ``source_text[start:end]``; ``[n]`` markers in
``Answer.answer`` refer to ``Citation.id``; ``abstained`` answers carry no citations.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ABSTAIN_MESSAGE = "The article doesn't say."

#: How the citation verifier judged a sentence of an LLM answer.
SentenceStatus = Literal["supported", "unsupported", "uncited"]


@dataclass(frozen=True)
class Citation:
    """An exact quote from a source that supports (part of) the answer."""

    id: int
    source: str
    start: int
    end: int
    quote: str
    score: float


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, as shown to the answerer."""

    source: str
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class SentenceCheck:
    """One sentence of an LLM answer as shown in ``Answer.answer`` (with its ``[n]`` markers), and its verdict.

    ``supported``: the sentences cited by ``citation_ids`` say it; ``unsupported``: the model cited a source
    that does not say it; ``uncited``: it cites nothing and no retrieved passage says it.
    """

    text: str
    status: SentenceStatus
    citation_ids: list[int] = field(default_factory=list)
    score: float = 0.0


@dataclass
class Answer:
    """A grounded answer to one question."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Passage] = field(default_factory=list)
    backend: str = "extractive"
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone_question: str | None = None
    #: LLM backends: the verifier's verdict on each sentence; ``answer == " ".join(s.text for s in sentences)``.
    sentences: list[SentenceCheck] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form of the contract."""
        return asdict(self)

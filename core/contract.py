"""The answer contract: the one object every surface (CLI, HTTP, Gradio API, Python) returns.

See docs/DESIGN.md. ``Citation.quote`` is always exactly ``source_text[start:end]``; ``[n]`` markers in
``Answer.answer`` refer to ``Citation.id``; ``abstained`` answers carry no citations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from core.errors import InputError

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
    #: The 1-based page the quote starts on, for a paged document (PDF); None otherwise (and left out of JSON).
    page: int | None = None


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
        """The JSON-ready form of the contract (a citation's ``page`` only where the document has pages)."""
        out = asdict(self)
        for c in out["citations"]:
            if c.get("page") is None:
                c.pop("page", None)
        return out


@dataclass
class Draft:
    """An answerer's output before the chain wraps it into an :class:`Answer`."""

    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    confidence: float = 0.0
    sentences: list[SentenceCheck] = field(default_factory=list)


@dataclass(frozen=True)
class Turn:
    """One earlier turn of a conversation, with what its answer already knew.

    A plain ``[question, answer]`` pair gives only the texts; an answer object passed back (as every surface
    returns it) also gives how the question was understood and the spans it quoted, so a follow-up needs
    neither to condense the old question again nor to search the documents for the old answer's words.
    """

    question: str
    answer: str | None = None
    #: How the question was understood; ``None`` for a plain text pair (not known, work it out again).
    standalone_question: str | None = None
    citations: tuple[Citation, ...] = ()


#: Longest question accepted, in characters (checked before any per-character work).
MAX_QUESTION_CHARS = 2000
#: Earlier turns kept from a history; older ones are dropped.
MAX_HISTORY_TURNS = 50
#: Citations read from one earlier turn.
MAX_TURN_CITATIONS = 20


def _citation(value: Any) -> Citation:
    if not isinstance(value, Mapping):
        raise InputError("each citation of a history turn must be an object with source, start and end")
    source, start, end = value.get("source"), value.get("start"), value.get("end")
    if not isinstance(source, str) or not isinstance(start, int) or not isinstance(end, int) or not 0 <= start <= end:
        raise InputError("a history citation needs a source name and whole-number offsets start <= end")
    quote = value.get("quote")
    score = value.get("score")
    page = value.get("page")
    return Citation(
        int(value.get("id") or 0),
        source,
        start,
        end,
        quote if isinstance(quote, str) else "",
        float(score) if isinstance(score, int | float) else 0.0,
        page if isinstance(page, int) and not isinstance(page, bool) and page > 0 else None,
    )


def to_turn(value: Any) -> Turn:
    """One history entry: a ``[question, answer]`` pair (the answer may be null), a :class:`Turn`, or an
    answer object as the surfaces return it (``question``, ``answer``, ``standalone_question``,
    ``citations``). Raises :class:`InputError` saying what is wrong."""
    if isinstance(value, Turn):
        return value
    if isinstance(value, Mapping):
        question, answer = value.get("question"), value.get("answer")
        if not isinstance(question, str) or not (answer is None or isinstance(answer, str)):
            raise InputError("a history object needs a question (text) and an answer (text or null)")
        standalone = value.get("standalone_question")
        if standalone is not None and not isinstance(standalone, str):
            raise InputError("standalone_question in a history object must be text or null")
        cited = value.get("citations") or []
        if not isinstance(cited, list | tuple):
            raise InputError("citations in a history object must be a list")
        # An answer object's question stood alone unless it says how it was understood.
        return Turn(
            question[:MAX_QUESTION_CHARS],
            answer,
            (standalone or question)[:MAX_QUESTION_CHARS],
            tuple(_citation(c) for c in list(cited)[:MAX_TURN_CITATIONS]),
        )
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InputError("each history entry must be a [question, answer] pair or an answer object")
    user, assistant = value
    if not isinstance(user, str) or not (assistant is None or isinstance(assistant, str)):
        raise InputError("history entries must hold text (the answer may be null)")
    return Turn(user[:MAX_QUESTION_CHARS], assistant)


def to_turns(history: Any) -> list[Turn]:
    """Validate a history (oldest first) into :class:`Turn` objects, keeping the most recent turns."""
    if history is None:
        return []
    if not isinstance(history, list | tuple):
        raise InputError("history must be a list of [question, answer] pairs or answer objects")
    return [to_turn(t) for t in list(history)[-MAX_HISTORY_TURNS:]]

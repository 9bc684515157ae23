"""The words a collection is presented with: title, placeholder, example questions and the abstention message.

They are data, not code. A document may carry its own beside it (``<name>.questions.json``, read when it is
indexed, :func:`index.loader.sidecar`, and kept in its record):

    {"title": "Ask the article", "placeholder": "Ask about the article…",
     "abstain": "The article doesn't say.", "examples": ["...", "..."]}

A collection of one document uses that document's words; without them, or for several documents, the words
are generic ("Ask the documents", "The documents don't say.") and the example questions are drawn from the
documents themselves: questions about the names (people, organisations, places, events) they mention most.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.corpus import Corpus

#: What a question about each kind of name asks.
_TEMPLATES = {
    "PERSON": "Who is {}?",
    "ORG": "What is {}?",
    "EVENT": "What happened at {}?",
    "LAW": "What does {} say?",
    "WORK_OF_ART": "What is {} about?",
    "PRODUCT": "What is {}?",
}
_DEFAULT_TEMPLATE = "What do the documents say about {}?"
MAX_EXAMPLES = 4


@dataclass(frozen=True)
class Wording:
    """How a collection is presented."""

    title: str
    placeholder: str
    abstain: str
    examples: tuple[str, ...]


def drawn_examples(corpus: Corpus, n: int = MAX_EXAMPLES) -> tuple[str, ...]:
    """Questions about the names the documents mention most, one per kind of name first."""
    ranked = [(label, text) for label, text, _ in corpus.mentioned]
    chosen: list[tuple[str, str]] = []
    for key in ranked:  # the most frequent name of each kind, then the rest by frequency
        if key[0] not in {k for k, _ in chosen}:
            chosen.append(key)
    chosen += [key for key in ranked if key not in chosen]
    questions = [_TEMPLATES.get(label, _DEFAULT_TEMPLATE).format(text) for label, text in chosen]
    return tuple(dict.fromkeys(questions))[:n]


def wording_for(corpus: Corpus) -> Wording:
    """The words for the collection ``corpus`` holds."""
    given = list(corpus.wordings.values())
    if len(corpus.wordings) == 1 and given[0]:
        own = given[0]
        examples = tuple(own.get("examples") or ()) or drawn_examples(corpus)
        return Wording(
            own.get("title", "Ask the document"),
            own.get("placeholder", "Ask about the document…"),
            own.get("abstain", "The document doesn't say."),
            examples,
        )
    if len(corpus.texts.names()) == 1:
        name = corpus.texts.names()[0]
        return Wording(f"Ask {name}", f"Ask about {name}…", "The document doesn't say.", drawn_examples(corpus))
    shipped = tuple(q for w in given for q in w.get("examples", ()))
    return Wording(
        "Ask the documents",
        "Ask about the documents…",
        "The documents don't say.",
        shipped[:MAX_EXAMPLES] or drawn_examples(corpus),
    )

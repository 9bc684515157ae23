"""A question, analysed once per turn into what the answerer's features need.

Nothing here is about any one document. The question's words are matched against the document's own
vocabulary and named entities (tagged by spaCy at index time, :mod:`index.analysis`):

* **terms** are stemmed content words; a word the document never uses but that is one edit away from a
  word it does use (two for long words) is read as that word (``rapidfuzz``), so a misspelt surname meets
  the document's spelling and "becuase" meets "because". Accents and case never matter (:func:`rag.text.fold`).
* **names** are the question's terms that belong to a named entity of the document, grouped by entity
  ("jane roe" -> {jane, roe}); case-insensitive, so a lower-case question keeps its names.
* **expected** are the entity labels the question asks for: from its question word ("when" -> DATE, TIME)
  or, for "what/which N", from the WordNet class of the noun N ("which senator" -> a person, "which state"
  -> a place; ``rag/data/noun_classes.json``, built by ``scripts/build_noun_classes.py``).
* **unknown** is the IDF-weighted share of the question that the document never uses: a question mostly
  about things the document lacks is probably not answered by it.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz.distance import OSA
from rapidfuzz.process import extractOne

from rag.text import QUESTION_WORDS, STOPWORDS, fold, stem, words

_LETTERS = re.compile(r"[^\W\d_]{5,}")

NOUN_CLASSES = Path(__file__).resolve().parent / "data" / "noun_classes.json"
ENGLISH_WORDS = NOUN_CLASSES.parent / "english_words.txt.gz"
_SUFFIXES = ("s", "es", "ed", "d", "ing", "ly", "er", "est", "ers")
#: Function words a typo may stand for ("wat" -> "what", "becuase" -> "because").
_FUNCTION_WORDS = sorted(w for w in STOPWORDS | QUESTION_WORDS if len(w) >= 3)
_QUESTION_WORDS = sorted(QUESTION_WORDS)

# OntoNotes entity labels (spaCy's English models) for each kind of answer.
PERSON = frozenset({"PERSON", "NORP", "ORG"})
PLACE = frozenset({"GPE", "LOC", "FAC"})
GROUP = frozenset({"ORG", "NORP", "GPE"})
TIME = frozenset({"DATE", "TIME"})
QUANTITY = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})
_CLASS_LABELS = {"person": PERSON, "location": PLACE, "group": GROUP, "time": TIME, "quantity": QUANTITY}
#: Labels of entities that are names (of people, groups, places, things), as opposed to values.
NAME_LABELS = frozenset({"PERSON", "NORP", "ORG", "GPE", "LOC", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"})

# What English question words ask for. "how much/many/long/old/..." ask for an amount.
_WH_LABELS = {"who": PERSON, "whom": PERSON, "whose": PERSON, "when": TIME, "where": PLACE}
_HOW_AMOUNT = frozenset("much many long old far big large high often tall wide deep".split())
_WHICH = frozenset({"what", "which"})
_SKIP_AFTER_WHICH = frozenset({"kind", "sort", "type", "of", "the", "a", "an"})


@lru_cache(maxsize=1)
def noun_classes() -> dict[str, list[str]]:
    """WordNet's entity-like classes of English nouns (person, location, group, time, quantity)."""
    with open(NOUN_CLASSES, encoding="utf-8") as fh:
        data: dict[str, list[str]] = json.load(fh)
    return data


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """WordNet's English words: a word in it is never read as a typo of another."""
    with gzip.open(ENGLISH_WORDS, "rt", encoding="utf-8") as fh:
        return frozenset(fh.read().split())


def is_english(word: str) -> bool:
    """Whether ``word`` (folded) is an English word or a regular inflection of one."""
    known = english_words()
    if word in known:
        return True
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if base in known or base + "e" in known:
                return True
    return word.endswith(("ies", "ied")) and word[:-3] + "y" in known


def _noun_labels(word: str) -> frozenset[str]:
    classes = noun_classes()
    for form in (word, word[:-1] if word.endswith("s") else "", word[:-2] if word.endswith("es") else ""):
        if form and form in classes:
            out: frozenset[str] = frozenset()
            for c in classes[form]:
                out |= _CLASS_LABELS[c]
            return out
    return frozenset()


def expected_labels(tokens: list[str]) -> frozenset[str]:
    """The entity labels a question (its folded words) asks for; empty when it asks for no entity."""
    for i, w in enumerate(tokens[:6]):
        if w in _WH_LABELS:
            return _WH_LABELS[w]
        if w == "how" and i + 1 < len(tokens) and tokens[i + 1] in _HOW_AMOUNT:
            return QUANTITY | (TIME if tokens[i + 1] in {"long", "old", "often"} else frozenset())
        if w in _WHICH:
            for nxt in tokens[i + 1 : i + 4]:
                if nxt in _SKIP_AFTER_WHICH:
                    continue
                if nxt in STOPWORDS:  # "what did ...", "what is ..."
                    break
                labels = _noun_labels(nxt)
                if labels:
                    return labels
            return frozenset()
    return frozenset()


@dataclass(frozen=True)
class Question:
    """One question, analysed against one corpus's vocabulary and entities."""

    text: str
    tokens: tuple[str, ...]
    #: Content terms (stems), typos corrected against the document's vocabulary, in order, unique.
    terms: tuple[str, ...]
    #: IDF weight of each term (terms the document lacks get the weight of an unseen term).
    weights: dict[str, float]
    #: Groups of terms that name an entity of the document.
    names: tuple[frozenset[str], ...]
    expected: frozenset[str]
    #: IDF-weighted share of the question's terms the document never uses.
    unknown: float


@dataclass(eq=False)
class Vocabulary:
    """What a question is matched against: the document's terms with IDF, and its entities' term groups."""

    idf: dict[str, float]
    unseen_idf: float
    #: For each term that is part of a named entity, the term groups of the entities it is part of.
    entity_groups: dict[str, list[frozenset[str]]]
    #: The first word of the documents written with each stem (what a corrected typo becomes).
    surfaces: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._corrected: dict[str, str] = {}
        self._by_length: dict[int, list[str]] = {}
        for t in self.idf:
            if t.isalpha():
                self._by_length.setdefault(len(t), []).append(t)

    def correct(self, term: str) -> str:
        """``term``, or the document's term it is a small typo of."""
        if term in self.idf or len(term) < 5 or not term.isalpha():
            return term
        if term not in self._corrected:
            self._corrected[term] = self._nearest(term)
        return self._corrected[term]

    def _nearest(self, term: str) -> str:
        limit = 1 if len(term) < 9 else 2
        pool = [t for n in range(len(term) - limit, len(term) + limit + 1) for t in self._by_length.get(n, ())]
        if not pool:
            return term
        found = extractOne(term, pool, scorer=OSA.distance, score_cutoff=limit)
        return str(found[0]) if found else term

    def spelled(self, text: str) -> str:
        """``text`` with each word that is neither English nor the document's, and a small typo of one of the
        document's words, replaced by that word as the document writes it ("catepillar" -> "caterpillar"):
        the query retrieval searches with, so that BM25 and the embedding see the document's spelling."""

        def repl(m: re.Match[str]) -> str:
            word = fold(m.group(0)).lower()
            if word in STOPWORDS or is_english(word) or stem(word) in self.idf:
                return m.group(0)
            near = self.correct(stem(word))
            return self.surface(near) if near != stem(word) else m.group(0)

        return _LETTERS.sub(repl, text)

    def surface(self, term: str) -> str:
        """The first word of the document whose stem is ``term`` (``term`` itself when there is none)."""
        return self.surfaces.get(term, term)

    def fix(self, word: str, first: bool = False) -> str:
        """A folded word as the document or English spells it: a function word one edit off ("becuase", or
        "wat" opening the question) is that word."""
        if word in STOPWORDS or word in QUESTION_WORDS or not word.isalpha() or len(word) < 3:
            return word
        if stem(word) in self.idf or (is_english(word) and not first):
            return word
        pools = [_QUESTION_WORDS] if first else []
        if not is_english(word):
            pools.append(_FUNCTION_WORDS)
        for pool in pools:  # a question's first word is most likely a question word
            near = extractOne(word, pool, scorer=OSA.distance, score_cutoff=1)
            if near:
                return str(near[0])
        return word

    def terms(self, tokens: list[str]) -> list[str]:
        """The content terms of folded ``tokens``, in order and unique; a word that is not English is read
        as the document's term it is a typo of."""
        content = (w for w in tokens if w not in STOPWORDS and w not in QUESTION_WORDS)
        return list(dict.fromkeys(stem(w) if is_english(w) else self.correct(stem(w)) for w in content))

    def analyse(self, text: str, context: str = "") -> Question:
        tokens = [self.fix(w, first=i == 0) for i, w in enumerate(words(text))]
        ordered = self.terms(tokens)
        weights = {t: self.idf.get(t, self.unseen_idf) for t in ordered}
        for t in self.terms(words(context)):
            weights.setdefault(t, 0.3 * self.idf.get(t, self.unseen_idf))
        total = sum(weights.values()) or 1.0
        unknown = sum(w for t, w in weights.items() if t not in self.idf) / total
        present = set(ordered)
        names: list[frozenset[str]] = []
        for t in ordered:
            for group in self.entity_groups.get(t, ()):
                part = frozenset(group & present)
                if part and not any(part <= g for g in names):
                    names = [g for g in names if not g < part] + [part]
        return Question(text, tuple(tokens), tuple(ordered), weights, tuple(names), expected_labels(tokens), unknown)

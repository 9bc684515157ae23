"""The in-memory view of a stored corpus that retrieval and answering share, built once per process."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from core.contract import Turn
from index import analysis
from index.chunker import Chunk, Sentence
from index.loader import page_at
from index.store import DocumentRecord, SentenceVectors, StoredCorpus
from rag.bm25 import BM25Index
from rag.condense import known_people
from rag.question import NAME_LABELS, Question, Vocabulary
from rag.sources import SourceTexts
from rag.text import terms

_CAPITALISED = re.compile(r"\b[A-Z][\w’'-]*")
_NAME_RUN = re.compile(r"[A-Z][\w-]+(?:\s+(?:(?:of|for|and|the|on)\s+)*[A-Z][\w-]+)+")


@dataclass
class Corpus:
    """Chunks with their BM25 index, sentences with their vectors, and the people the texts name."""

    chunks: list[Chunk]
    sentences: list[Sentence]
    #: Indexed like a matrix (``sentence_vectors[[i, j]]``); read from the store on demand.
    sentence_vectors: SentenceVectors
    #: Each document's record (name, type, pages, chunks, when indexed), by name.
    records: dict[str, DocumentRecord] = field(default_factory=dict)
    bm25: BM25Index = field(init=False)
    people: dict[str, str] = field(init=False)
    vocabulary: frozenset[str] = field(init=False)
    sentence_terms: list[frozenset[str]] = field(init=False)
    sentence_capitals: list[frozenset[str]] = field(init=False)
    #: Each sentence's named entities as ``(label, terms, text)``, from index time.
    sentence_entities: list[list[tuple[str, frozenset[str], str]]] = field(init=False)
    lexicon: Vocabulary = field(init=False)
    _starts: dict[str, list[int]] = field(init=False)
    _by_source: dict[str, list[int]] = field(init=False)
    _chunk_by_id: dict[str, Chunk] = field(init=False)
    _chunks_of_sentence: dict[str, list[str]] = field(init=False)
    _frequency: Counter[str] = field(init=False)

    def __post_init__(self) -> None:
        self.bm25 = BM25Index(self.chunks)
        self.people = known_people(s.text for s in self.sentences)
        self.sentence_terms = [frozenset(terms(s.text)) for s in self.sentences]
        # The terms of each sentence's capitalised words: where a name can be ("Defense" in "the Defense
        # Department", not in "missile defense").
        self.sentence_capitals = [frozenset(terms(" ".join(_CAPITALISED.findall(s.text)))) for s in self.sentences]
        vocab: set[str] = set()
        for t in self.sentence_terms:
            vocab |= t
        self.vocabulary = frozenset(vocab | self._acronyms())
        self._frequency = Counter(t for ts in self.sentence_terms for t in ts)
        self.sentence_entities = self._entities()
        groups: dict[str, list[frozenset[str]]] = {}
        for ents in self.sentence_entities:
            for label, group, _ in ents:
                if label in NAME_LABELS and group:
                    for term in group:
                        if group not in groups.setdefault(term, []):
                            groups[term].append(group)
        self.lexicon = Vocabulary(
            self.bm25.idf, self.bm25.unseen_idf(), groups, lambda: (s.text for s in self.sentences)
        )
        self._by_source = {}
        for i, s in enumerate(self.sentences):
            self._by_source.setdefault(s.source, []).append(i)
        self._starts = {src: [self.sentences[i].start for i in idx] for src, idx in self._by_source.items()}
        self._chunk_by_id = {c.id: c for c in self.chunks}
        self._chunks_of_sentence = {}
        for c in self.chunks:
            for i in self.sentences_in(c.source, c.start, c.end):
                self._chunks_of_sentence.setdefault(self.sentences[i].id, []).append(c.id)

    def _entities(self) -> list[list[tuple[str, frozenset[str], str]]]:
        """The stored entities of each sentence; sentences stored before analysis existed are analysed now."""
        missing = [i for i, s in enumerate(self.sentences) if s.entities is None]
        found = dict(zip(missing, analysis.entities([self.sentences[i].text for i in missing]), strict=True))
        out = []
        for i, s in enumerate(self.sentences):
            ents = found.get(i, s.entities or ())
            out.append([(label, frozenset(terms(s.text[a:b])), s.text[a:b]) for a, b, label in ents])
        return out

    def analyse(self, question: str, context: str = "") -> Question:
        """``question`` analysed against this corpus (see :mod:`rag.question`)."""
        return self.lexicon.analyse(question, context)

    def _acronyms(self) -> set[str]:
        """Initials of capitalised names ("Bureau of Labor Statistics" -> "bls")."""
        out = set()
        for s in self.sentences:
            for run in _NAME_RUN.findall(s.text):
                initials = "".join(w[0] for w in run.split() if w[:1].isupper())
                if len(initials) >= 2:
                    out.add(initials.lower())
        return out

    def sentence_frequency(self, term: str) -> int:
        """In how many sentences ``term`` occurs."""
        return self._frequency.get(term, 0)

    @classmethod
    def from_store(cls, stored: StoredCorpus) -> Corpus:
        """Build from what :meth:`index.store.Store.load` read."""
        return cls(stored.chunks, stored.sentences, stored.sentence_vectors, stored.documents)

    @cached_property
    def pages(self) -> dict[str, tuple[int, ...]]:
        """Where each page of a paged document (PDF) starts, by source name (from the records)."""
        return {name: r.pages for name, r in self.records.items() if r.pages}

    @cached_property
    def wordings(self) -> dict[str, dict[str, Any]]:
        """How each document with a record is presented (:mod:`rag.wording`), by source name."""
        return {name: r.wording for name, r in self.records.items()}

    def page_of(self, source: str, offset: int) -> int | None:
        """The 1-based page of ``source`` that holds character ``offset``; None for a document without pages."""
        return page_at(self.pages.get(source, ()), offset)

    def sentences_in(self, source: str, start: int, end: int) -> list[int]:
        """Indices of the sentences lying inside ``[start, end)`` of ``source``."""
        idx = self._by_source.get(source, [])
        starts = self._starts.get(source, [])
        out = []
        for j in range(bisect_left(starts, start), len(idx)):
            s = self.sentences[idx[j]]
            if s.start >= end:
                break
            if s.end <= end:
                out.append(idx[j])
        return out

    def chunk(self, chunk_id: str) -> Chunk:
        """The chunk with id ``chunk_id``."""
        return self._chunk_by_id[chunk_id]

    def chunks_of_sentence(self, sentence_id: str) -> list[str]:
        """Ids of the chunks that contain the sentence ``sentence_id`` (two where chunks overlap)."""
        return self._chunks_of_sentence.get(sentence_id, [])

    def neighbours(self, i: int) -> list[int]:
        """The sentences just before and after sentence ``i`` in its source (a name is often one sentence
        away from the pronoun that refers to it)."""
        source = self.sentences[i].source
        return [j for j in (i - 1, i + 1) if 0 <= j < len(self.sentences) and self.sentences[j].source == source]

    @cached_property
    def texts(self) -> SourceTexts:
        """Every document's text, rebuilt from its sentences (on first use: the web app's document view and
        follow-ups to plain-text histories need it, a command-line question does not)."""
        return SourceTexts(self.sentences)

    def sentence_at(self, source: str, offset: int) -> int | None:
        """The index of the sentence of ``source`` that holds character ``offset``."""
        idx = self._by_source.get(source, [])
        j = bisect_right(self._starts.get(source, []), offset) - 1
        if 0 <= j < len(idx) and self.sentences[idx[j]].start <= offset < self.sentences[idx[j]].end:
            return idx[j]
        return None

    def quoted(self, turns: list[Turn]) -> tuple[int, ...]:
        """The sentences that the answers of ``turns`` quoted: read from their citations when the turns carry
        them, else found verbatim in the documents (a fragment of 40 characters or more of a plain-text
        answer, up to its first 60)."""
        out: dict[int, None] = {}
        for turn in turns:
            if turn.citations:
                for c in turn.citations:
                    out.update(dict.fromkeys(self.sentences_in(c.source, c.start, c.end)))
                continue
            flat = " ".join(_MARKER.sub(" ", turn.answer or "").split())
            for fragment in _FRAGMENT_END.split(flat):
                if len(fragment) < 40:
                    continue
                for source, offset in self.texts.find(fragment[:60]):
                    i = self.sentence_at(source, offset)
                    if i is not None:
                        out.setdefault(i, None)
        return tuple(out)


_MARKER = re.compile(r"\[\d+\]")
_FRAGMENT_END = re.compile(r"(?<=[.!?”\"])\s+")

"""The fitted answerer (backend ``fitted``): quote the sentences a fitted model finds likely to answer. No LLM.

It is chosen with ``--backend fitted``. On the blind sets of five documents (README, "Quality and speed") it
holds more key facts than the hand-ruled ``extractive`` default on four of them and almost never declines an
answerable question, but it declines too few unanswerable ones to keep the article's floors, so it is not
the default.

Every sentence of the retrieved passages is a candidate. :mod:`rag.answerers.features` describes each by
general measured features (meaning similarity, IDF-weighted coverage of the question, names shared with
the document's entities, whether it holds an entity of the kind asked for, ...), and a logistic regression
fitted on question sets over several documents (:mod:`rag.answerers.sentence_model`, ``model.json``,
``python -m eval.train_answerer``) turns them into the probability that the sentence answers. The answer
quotes the most probable sentence, and a second one when it is nearly as probable and adds words of the
question the first leaves out; when no sentence reaches the threshold chosen on validation data, it
abstains.

The answer leads with the words that answer when the question asks for a kind of entity (a time, an
amount, a person, a place) that the quoted sentence names: "Friday, 5:01 PM ET — The statement ... [1]".
The citation always quotes the whole sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.contract import ABSTAIN_MESSAGE, Citation, Draft
from rag.answerers.base import Answerer, AnswerRequest, candidate_sentences
from rag.answerers.features import features, question_features
from rag.answerers.sentence_model import SentenceModel, load_model
from rag.corpus import Corpus
from rag.question import Question

MAX_SENTENCES = 2
#: Passages read per question. More than the five shown: on the long and the multi-document collections
#: the answering sentence is often in a passage ranked sixth to tenth (leave-one-document-out, dev sets:
#: answerable questions with no answering candidate fall from 42 to 26 of 278 going from 5 to 10).
POOL = 10
#: Candidates a second sentence is looked for among, after the best.
SECOND_LOOK = 4


@dataclass(frozen=True)
class Scored:
    """The candidates of one question, their features and probabilities, best first."""

    question: Question
    indices: list[int]
    rows: np.ndarray[Any, np.dtype[np.float64]]
    probabilities: np.ndarray[Any, np.dtype[np.float64]]


class FittedAnswerer(Answerer):
    """Quote the sentences a fitted model finds most likely to answer; abstain when none is likely enough."""

    name = "fitted"
    pool = POOL

    def __init__(
        self,
        corpus: Corpus,
        threshold: float | None = None,
        max_sentences: int = MAX_SENTENCES,
        model: SentenceModel | None = None,
    ) -> None:
        self.corpus = corpus
        self.model = model or load_model()
        self.threshold = self.model.threshold if threshold is None or threshold < 0 else threshold
        self.max_sentences = max_sentences

    def candidates(self, request: AnswerRequest) -> tuple[list[int], list[int]]:
        """Sentences of the retrieved passages (never a planted instruction), and the rank of the first
        passage that holds each."""
        seen = candidate_sentences(self.corpus, request.passages)
        return list(seen), list(seen.values())

    def score(self, request: AnswerRequest) -> Scored:
        """Every candidate's features and probability, best first."""
        question = self.corpus.analyse(request.question, request.context)
        indices, ranks = self.candidates(request)
        if not indices or request.query_vector is None:
            return Scored(question, [], np.zeros((0, 0)), np.zeros(0))
        dense = self.corpus.sentence_vectors[indices] @ request.query_vector
        rows = features(
            self.corpus, question, indices, dense, ranks, request.previous, bool(request.context), request.query_vector
        )
        probs = self.model.probabilities(rows)
        order = np.argsort(-probs, kind="stable")
        return Scored(question, [indices[j] for j in order], rows[order], probs[order])

    def answer(self, request: AnswerRequest) -> Draft:
        """Quote up to ``max_sentences`` sentences, or abstain."""
        scored = self.score(request)
        best = float(scored.probabilities[0]) if scored.indices else 0.0
        confidence = (
            self.model.answerability(question_features(scored.rows, scored.probabilities)) if scored.indices else 0.0
        )
        if not scored.indices or confidence < self.threshold:
            return Draft(ABSTAIN_MESSAGE, abstained=True, confidence=round(confidence, 4))
        chosen = [0]
        covered = set(self.corpus.sentence_terms[scored.indices[0]])
        asked = set(scored.question.terms)
        for j in range(1, min(len(scored.indices), 1 + SECOND_LOOK)):
            if len(chosen) >= self.max_sentences:
                break
            p = float(scored.probabilities[j])
            if p < self.model.second_ratio * best:
                break
            terms = self.corpus.sentence_terms[scored.indices[j]]
            if (terms & asked) - covered:  # it answers a part of the question the first leaves out
                chosen.append(j)
                covered |= terms
        picked = sorted(
            chosen,
            key=lambda j: (
                self.corpus.sentences[scored.indices[j]].source,
                self.corpus.sentences[scored.indices[j]].start,
            ),
        )
        citations, parts = [], []
        for n, j in enumerate(picked, start=1):
            sent = self.corpus.sentences[scored.indices[j]]
            citations.append(
                Citation(n, sent.source, sent.start, sent.end, sent.text, round(float(scored.probabilities[j]), 4))
            )
            text = " ".join(sent.text.split())
            lead = self.lead(scored.question, scored.indices[j])
            parts.append(f"{lead} — {text} [{n}]" if lead else f"{text} [{n}]")
        return Draft(" ".join(parts), abstained=False, citations=citations, confidence=round(confidence, 4))

    def lead(self, question: Question, i: int) -> str:
        """The words of sentence ``i`` that answer: its entities of the kind the question asks for that the
        question does not already name ("Friday", "5:01 PM"), joined; "" when there are none."""
        if not question.expected:
            return ""
        asked = set(question.terms)
        found: list[str] = []
        for label, group, text in self.corpus.sentence_entities[i]:
            if label in question.expected and not group <= asked and text not in found:
                found.append(text)
        return ", ".join(found[:2])

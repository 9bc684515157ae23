"""What the fitted answerer knows about one candidate sentence for one question: general, measured features.

Every feature is a number computed the same way for any document: similarity of meaning (MiniLM cosines
computed at index time for sentences, once per turn for the question), lexical coverage weighted by IDF,
the share of the question the document never uses, names shared with the document's entities, agreement
of the kind of answer asked for with the sentence's entity types, where the sentence was retrieved, and
whether a follow-up's previous answer quoted it or its neighbours. ``eval/train_answerer.py`` fits the
weights; nothing here is tuned to a question.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.corpus import Corpus
from rag.question import Question

FEATURES = (
    "dense",
    "dense_gap",
    "dense_rank",
    "dense_window",
    "lexical",
    "lexical_near",
    "about",
    "about_near",
    "unknown",
    "has_names",
    "names",
    "names_near",
    "expects",
    "type_found",
    "type_missing",
    "missing_idf",
    "log_length",
    "chunk_rank",
    "previous",
    "followup",
)


def _coverage(weights: dict[str, float], present: frozenset[str] | set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in present) / total if total else 1.0


def _window_similarity(corpus: Corpus, i: int, query: np.ndarray[Any, np.dtype[np.float32]]) -> float:
    """Cosine of the question with the sentence read with its neighbours (the mean of their vectors): what a
    sentence means often depends on the one before it."""
    window = corpus.sentence_vectors[[i, *corpus.neighbours(i)]].sum(axis=0)
    norm = float(np.linalg.norm(window))
    return float(window @ query) / norm if norm else 0.0


def features(
    corpus: Corpus,
    question: Question,
    candidates: Sequence[int],
    dense: np.ndarray[Any, np.dtype[np.float32]],
    chunk_ranks: Sequence[int],
    previous: Sequence[int] = (),
    followup: bool = False,
    query: np.ndarray[Any, np.dtype[np.float32]] | None = None,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """One row of :data:`FEATURES` per candidate sentence (indices into ``corpus.sentences``); ``dense`` are
    their cosines with the question, whose vector is ``query``."""
    rows = np.zeros((len(candidates), len(FEATURES)))
    if not len(candidates):
        return rows
    best = float(np.max(dense))
    order = np.argsort(-dense, kind="stable")
    dense_rank = np.empty(len(candidates))
    dense_rank[order] = np.arange(len(candidates))
    weights = question.weights
    name_terms = set().union(*question.names) if question.names else set()
    about = {t: w for t, w in weights.items() if t not in name_terms}
    unseen = corpus.lexicon.unseen_idf or 1.0
    near_previous = {n for i in previous for n in (i, *corpus.neighbours(i))}
    asked = set(question.terms)
    for row, i in enumerate(candidates):
        own = corpus.sentence_terms[i]
        around = own.union(*(corpus.sentence_terms[n] for n in corpus.neighbours(i)))
        missing = [w for t, w in weights.items() if t not in own]
        names_here = sum(1 for g in question.names if g & own)
        names_near = sum(1 for g in question.names if g & around)
        n_names = len(question.names)
        typed = bool(question.expected) and any(
            label in question.expected and not group <= asked for label, group, _ in corpus.sentence_entities[i]
        )
        rows[row] = (
            float(dense[row]),
            float(dense[row]) - best,
            1.0 / (1.0 + dense_rank[row]),
            _window_similarity(corpus, i, query) if query is not None else float(dense[row]),
            _coverage(weights, own),
            _coverage(weights, around),
            _coverage(about, own),
            _coverage(about, around),
            question.unknown,
            1.0 if n_names else 0.0,
            names_here / n_names if n_names else 1.0,
            names_near / n_names if n_names else 1.0,
            1.0 if question.expected else 0.0,
            1.0 if typed else 0.0,
            1.0 if question.expected and not typed else 0.0,
            max(missing) / unseen if missing else 0.0,
            math.log1p(len(own)),
            1.0 / (1.0 + chunk_ranks[row]),
            1.0 if i in near_previous else 0.0,
            1.0 if followup else 0.0,
        )
    return rows


#: What decides whether to answer at all, from the ranked candidates of one question.
QUESTION_FEATURES = (
    "best",
    "second",
    "margin",
    "top3",
    "unknown",
    "has_names",
    "best_names",
    "best_names_near",
    "expects",
    "best_type_found",
    "best_dense",
    "max_dense",
    "best_lexical",
    "best_about",
    "best_missing_idf",
)


def question_features(
    rows: np.ndarray[Any, np.dtype[np.float64]], probabilities: np.ndarray[Any, np.dtype[np.float64]]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """One row of :data:`QUESTION_FEATURES`, from candidates sorted best first (their :data:`FEATURES` rows
    and sentence probabilities)."""
    if not len(probabilities):
        return np.zeros(len(QUESTION_FEATURES))
    col = {name: j for j, name in enumerate(FEATURES)}
    best = rows[0]
    p = probabilities
    return np.array(
        [
            p[0],
            p[1] if len(p) > 1 else 0.0,
            p[0] - (p[1] if len(p) > 1 else 0.0),
            float(np.mean(p[:3])),
            best[col["unknown"]],
            best[col["has_names"]],
            best[col["names"]],
            best[col["names_near"]],
            best[col["expects"]],
            best[col["type_found"]],
            best[col["dense"]],
            float(np.max(rows[:, col["dense"]])),
            best[col["lexical"]],
            best[col["about"]],
            best[col["missing_idf"]],
        ]
    )

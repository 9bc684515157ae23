"""Fit the fitted answerer's sentence model on the development sets of several documents.

    python -m eval.train_answerer            # about two minutes on 2 CPU cores

For every development question of every document below, the chain runs as in the product (follow-up
condensing, one embedding call, hybrid retrieval); each candidate sentence of the retrieved passages gets
its features (:mod:`rag.answerers.features`) and a label: does it overlap the question's evidence?
Unanswerable questions give only negatives. A logistic regression is fitted on standardised features.

Validation is leave-one-document-out: for each document, a model fitted on the others scores its
questions. The abstention threshold is the highest at which, pooled over those held-out documents, at most
5% of answerable questions are declined; the second-sentence ratio maximises the F1 of citation precision
and recall there. The final model is fitted on all documents and written, with those choices and the
per-document validation figures, to ``rag/answerers/model.json``.

Blind sets (``blind.jsonl``, ``article_blind.jsonl``) are never read here.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ConfigError
from eval.bench import collection_name, load_examples
from eval.metrics import locate
from eval.suite import DOCUMENTS, ROOT, SPLITS
from index.loader import load_documents
from rag.answerers.features import FEATURES, QUESTION_FEATURES, features, question_features
from rag.answerers.fitted import FittedAnswerer
from rag.answerers.sentence_model import MODEL_PATH, SentenceModel, load_model
from rag.chain import Assistant
from rag.config import Settings
from rag.ingest import index_with

#: (name, documents, development sets): eval/suite.py's, less the LlamaIndex covid set, whose evidence is
#: whole pages (it would label every sentence of a page as an answer).
DEVELOPMENT: list[tuple[str, list[Path], list[Path]]] = [
    (name, DOCUMENTS[name], [p for p in SPLITS["dev"][name] if p.suffix == ".jsonl"])
    for name in DOCUMENTS
    if name != "library"  # the same questions again, over all documents at once
]
MAX_FALSE_ABSTENTION = 0.05


@dataclass
class Rows:
    """Candidate rows of one document's questions."""

    x: list[np.ndarray[Any, Any]] = field(default_factory=list)
    y: list[np.ndarray[Any, Any]] = field(default_factory=list)
    answerable: list[bool] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)


def collect(name: str, docs: list[Path], sets: list[Path], store: str) -> Rows:
    settings = Settings.from_env(store=store, backend="fitted")
    loaded = load_documents([str(d) for d in docs])
    texts = {d.source: d.text for d in loaded}
    settings = settings.with_(collection=collection_name(loaded, settings))
    index_with(settings, [str(d) for d in docs])
    assistant = Assistant(settings)
    answerer = assistant.answerer
    assert isinstance(answerer, FittedAnswerer)
    corpus = assistant.corpus
    rows = Rows()
    for ex in load_examples(sets):
        state = assistant.prepare(ex.question, ex.history)
        req = state.request
        indices, ranks = answerer.candidates(req)
        question = corpus.analyse(req.question, req.context)
        if indices and req.query_vector is not None:
            dense = corpus.sentence_vectors[indices] @ req.query_vector
            x = features(corpus, question, indices, dense, ranks, req.previous, bool(req.context), req.query_vector)
        else:
            x = np.zeros((0, len(FEATURES)))
        spans = locate(ex.evidence, texts) if ex.answerable else []
        y = np.array(
            [
                any(
                    sp.source == corpus.sentences[i].source
                    and min(sp.end, corpus.sentences[i].end) > max(sp.start, corpus.sentences[i].start)
                    for sp in spans
                )
                for i in indices
            ],
            dtype=bool,
        )
        rows.x.append(x)
        rows.y.append(y)
        rows.answerable.append(ex.answerable)
        rows.ids.append(ex.id)
    print(f"{name}: {len(rows.ids)} questions, {sum(len(y) for y in rows.y)} candidate sentences")
    return rows


def fit(groups: list[Rows], c: float) -> SentenceModel:
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([r for g in groups for r in g.x if len(r)])
    y = np.concatenate([r for g in groups for r in g.y if len(r)])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    lr = LogisticRegression(C=c, max_iter=2000)
    lr.fit((x - mean) / scale, y)
    return SentenceModel(mean, scale, lr.coef_[0], float(lr.intercept_[0]), 0.5, 0.8)


Result = tuple[bool, np.ndarray[Any, Any], np.ndarray[Any, Any], float]  # answerable, probs, labels, confidence


def fit_answerable(rows: list[np.ndarray[Any, Any]], labels: list[bool], c: float) -> tuple[Any, Any, Any, float]:
    from sklearn.linear_model import LogisticRegression

    x = np.vstack(rows)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    lr = LogisticRegression(C=c, max_iter=2000)
    lr.fit((x - mean) / scale, np.array(labels))
    return mean, scale, lr.coef_[0], float(lr.intercept_[0])


def question_rows(model: SentenceModel, rows: Rows) -> list[tuple[bool, Any, Any, Any]]:
    """Per question: answerable, candidate probabilities, labels, question features."""
    out = []
    for a, x, y in zip(rows.answerable, rows.x, rows.y, strict=True):
        p = model.probabilities(x)
        order = np.argsort(-p, kind="stable")
        out.append((a, p, y, question_features(x[order], p[order])))
    return out


def choose_threshold(pooled: list[Result]) -> float:
    conf = [c for a, _, _, c in pooled if a]
    for t in sorted({round(v, 4) for v in np.linspace(0.0, 1.0, 401)}, reverse=True):
        if np.mean([b < t for b in conf]) <= MAX_FALSE_ABSTENTION:
            return float(t)
    return 0.0


def figures(results: list[Result], t: float, ratio: float) -> dict[str, float]:
    ans = [(p, y, c) for a, p, y, c in results if a]
    una = [c for a, _, _, c in results if not a]
    declined = [len(p) == 0 or c < t for p, _, c in ans]
    top_right, chosen_right, chosen_all, any_right = 0, 0, 0, 0
    for (p, y, _), d in zip(ans, declined, strict=True):
        if d:
            continue
        order = np.argsort(-p)
        top_right += bool(y[order[0]])
        chosen = [order[0], *[j for j in order[1:5] if p[j] >= ratio * p[order[0]]][:1]]
        chosen_all += len(chosen)
        chosen_right += int(sum(bool(y[j]) for j in chosen))
        any_right += any(bool(y[j]) for j in chosen)
    answered = max(1, len(ans) - sum(declined))
    return {
        "answerable": len(ans),
        "unanswerable": len(una),
        "false_abstention": round(float(np.mean(declined)) if ans else 0.0, 3),
        "abstention_recall": round(float(np.mean([c < t for c in una])) if una else float("nan"), 3),
        "top_sentence_right": round(top_right / answered, 3),
        "citation_precision": round(chosen_right / max(1, chosen_all), 3),
        "citation_recall": round(any_right / max(1, len(ans)), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Fit the fitted answerer's sentence model.")
    parser.add_argument("--store", help="store to index the documents into (default: a temporary one)")
    parser.add_argument("-C", type=float, default=1.0, help="inverse regularisation strength")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    started = time.perf_counter()
    try:
        load_model()
    except ConfigError:  # missing, or fitted on other features: the assistant needs one to start; replaced below
        n = len(FEATURES)
        MODEL_PATH.write_text(json.dumps(SentenceModel(np.zeros(n), np.ones(n), np.zeros(n), 0.0, 0.5, 0.8).to_dict()))
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or tmp
        groups = {name: collect(name, docs, sets, store) for name, docs, sets in DEVELOPMENT}
    # Stage 1, leave one document out: sentence probabilities for each document from a model fitted on the others.
    oof = {
        name: question_rows(fit([g for n, g in groups.items() if n != name], args.C), groups[name]) for name in groups
    }
    # Stage 2, leave one document out again: is the question answered at all, from its ranked candidates.
    per_doc: dict[str, list[Result]] = {}
    for name in groups:
        others = [q for n, qs in oof.items() if n != name for q in qs]
        second = fit_answerable([q[3] for q in others], [q[0] for q in others], args.C)
        stage = SentenceModel(np.zeros(1), np.ones(1), np.zeros(1), 0.0, 0.0, 1.0, second)
        per_doc[name] = [(a, p, y, stage.answerability(qf)) for a, p, y, qf in oof[name]]
    pooled = [r for res in per_doc.values() for r in res]
    threshold = choose_threshold(pooled)
    ratios = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.01]

    def f1(r: float) -> float:
        f = figures(pooled, threshold, r)
        p, rc = f["citation_precision"], f["citation_recall"]
        return 2 * p * rc / max(1e-9, p + rc)

    ratio = max(ratios, key=f1)
    validation: dict[str, Any] = {name: figures(res, threshold, ratio) for name, res in per_doc.items()}
    validation["pooled"] = figures(pooled, threshold, ratio)
    final = fit(list(groups.values()), args.C)
    everything = [q for qs in oof.values() for q in qs]
    second = fit_answerable([q[3] for q in everything], [q[0] for q in everything], args.C)
    final = SentenceModel(final.mean, final.scale, final.coef, final.intercept, threshold, ratio, second)
    out = final.to_dict()
    out["trained_on"] = {name: [str(p.relative_to(ROOT)) for p in sets] for name, _, sets in DEVELOPMENT}
    out["C"] = args.C
    out["validation"] = {"method": "leave one document out", "max_false_abstention": MAX_FALSE_ABSTENTION, **validation}
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(validation, indent=1))
    print("weights:", {f: round(float(w), 3) for f, w in zip(FEATURES, final.coef, strict=True)})
    print("answerable:", {f: round(float(w), 3) for f, w in zip(QUESTION_FEATURES, second[2], strict=True)})
    print(f"threshold {threshold}, second-sentence ratio {ratio}; {time.perf_counter() - started:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()

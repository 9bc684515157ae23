"""Fit the detector's shifts on planted sets its reader never saw: the link shift and the shifts beside a flag.

    python -m eval.steering_shifts [--sets planted_p,planted_q,planted_r] [--model rag/data/steering.json] [--dry-run]

Run after ``eval/train_steering.py`` and ``eval/steering_pairs.py`` (about 6 minutes). Each shift is added to
the reader's log-odds of a sentence before the threshold, for something the reader, reading the sentence
alone, cannot see. Both are fitted on planted documents the shipped reader was not trained on (``--sets``:
its readings there are out of sample, as they are on people's documents), by a logistic regression of
whether a sentence is planted on the reader's log-odds and the feature: with ``y ~ c + a * logit + b *
feature``, a shift of ``b / a`` in the reader's log-odds is worth ``b`` in the fitted ones. Standard errors
are reported with them.

- ``link_shift``: the sentence names a host whose name the rest of its document never names
  (:func:`rag.steering.unvouched`), over every sentence of the sets.
- ``neighbour_shift`` and ``neighbour_shift_across``: the sentence, not flagged itself, is beside a
  sentence flagged before spreading (gate, reader with the link shift, pairs) in its own paragraph, or
  only across a paragraph break (:func:`rag.steering.spread`), over the sentences not flagged before
  spreading. ``eval/train_steering.py`` measures these as log-odds ratios not adjusted for the reader's
  reading, on sets its reader was trained on; the ones fitted here are reported, and written with ``--spread``.

Only the link shift is written unless ``--spread`` is given. The spread shifts fitted here (6.51 and 1.09
in session 23, against the trainer's 4.63 and 0.28) flagged 37 more steering sentences and 19 more
ordinary ones of the development documents, but on the next blind set (``injection_blind9``, now
``planted_s``; counts only) 2 more of its 79 steering sentences and 7 more of its 829 ordinary ones (16
rather than 9): they do not ship.

It prints what the fitted shifts change against the model's earlier ones, on every development set with
documents and on the shipped documents (the whole detector but the gate, which is not re-run: every
sentence is read): steering sentences flagged, plants wholly flagged, ordinary sentences flagged.
Blind sets (``eval/datasets/injection_blind*``) are never read here.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval import steering_pairs
from eval.steering_pairs import write
from index.embeddings import get_embeddings
from rag import steering
from rag.steering import MODEL_PATH

#: The planted sets the shipped reader was not trained on (``eval/train_steering.py`` predates them).
HELD_OUT = ("planted_p", "planted_q", "planted_r")


@dataclass
class Document:
    """A document's quotable sentences: each one's plant ("" for ordinary), paragraph, the reader's
    log-odds, whether it is unvouched, and (once known) whether it is flagged before spreading."""

    name: str
    texts: list[str]
    plants: list[str]
    paragraphs: list[int]
    logits: np.ndarray[Any, Any]
    unvouched: list[bool]
    flagged: list[bool]

    @property
    def part(self) -> str:
        return "shipped" if self.name.startswith("shipped/") else self.name.split("/")[0].removeprefix("planted_")


def documents() -> list[Document]:
    out = []
    for name, rows in steering_pairs.documents().items():
        decoded = [steering.decode(t)[0] for t, _, _ in rows]
        texts, plants, paragraphs = (list(column) for column in zip(*rows, strict=True))
        out.append(Document(name, texts, plants, paragraphs, steering.read(decoded), steering.unvouched(decoded), []))
    return out


def _logistic(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Maximum-likelihood weights of a logistic regression (Newton's method) and their covariance."""
    w = np.zeros(x.shape[1])
    hessian = np.eye(x.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-(x @ w)))
        hessian = (x * (p * (1 - p))[:, None]).T @ x + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, x.T @ (y - p))
        w += step
        if np.abs(step).max() < 1e-10:
            break
    return w, np.linalg.inv(hessian)


def shifts(rows: list[tuple[bool, float, list[float]]], names: list[str]) -> dict[str, Any]:
    """Fit ``y ~ c + a * logit + b . features`` over ``rows`` (label, reader's log-odds, features): each
    feature's shift ``b / a`` in the reader's log-odds, with its standard error (delta method)."""
    y = np.array([r[0] for r in rows], np.float64)
    x = np.array([[1.0, r[1], *r[2]] for r in rows], np.float64)
    w, cov = _logistic(x, y)
    out: dict[str, Any] = {"sentences": len(rows), "planted": int(y.sum()), "weights": [round(float(v), 4) for v in w]}
    a = w[1]
    for k, name in enumerate(names, start=2):
        gradient = np.zeros(len(w))
        gradient[1], gradient[k] = -w[k] / a**2, 1 / a
        out[name] = round(float(w[k] / a), 4)
        out[f"{name}_se"] = round(float(np.sqrt(gradient @ cov @ gradient)), 4)
        out[f"{name}_sentences"] = int(x[:, k].astype(bool).sum())
    return out


def flag_before_spreading(docs: list[Document], path: Path, fields: dict[str, float]) -> None:
    """Each document's flags before spreading, with the model at ``path`` and ``fields`` set in it."""
    embeddings = get_embeddings()

    def embed(texts: list[str]) -> np.ndarray[Any, Any]:
        return np.asarray(embeddings.embed_documents(list(texts)), np.float32)

    saved, steering.MODEL_PATH = steering.MODEL_PATH, path
    steering.model.cache_clear()
    model = steering.model() | fields
    steering.MODEL_PATH = saved
    steering.model.cache_clear()
    saved_model = steering.model
    steering.model = lambda: model  # type: ignore[assignment]
    try:
        for d in docs:
            d.flagged = steering.steering(d.texts, embed(d.texts), embed, [d.name] * len(d.texts))
    finally:
        steering.model = saved_model


def beside(d: Document, j: int) -> tuple[float, float]:
    """Whether sentence ``j`` of ``d`` is beside a flagged sentence of its paragraph, or else of the next
    or previous paragraph."""
    near = [i for i in (j - 1, j + 1) if 0 <= i < len(d.texts) and d.flagged[i]]
    same = any(d.paragraphs[i] == d.paragraphs[j] for i in near)
    return float(same), float(bool(near) and not same)


def lifted(d: Document, link: float) -> list[float]:
    return [v + link if u else v for v, u in zip(d.logits.tolist(), d.unvouched, strict=True)]


def _reader(logits: list[float]) -> Any:
    return lambda idx: [logits[i] for i in idx]


def effect(docs: list[Document], model: dict[str, Any], fields: dict[str, float]) -> dict[str, str]:
    """Per set: flags of the whole detector (every sentence read) with the model's shifts, then ``fields``."""
    counts: Counter[tuple[str, str]] = Counter()
    for d in docs:
        for which, m in (("was", model), ("now", model | fields)):
            logits = lifted(d, float(m.get("link_shift", 0.0)))
            blocks = list(zip([d.name] * len(d.texts), d.paragraphs, strict=True))
            out = steering.spread(
                d.flagged,
                blocks,
                _reader(logits),
                float(m["neighbour_shift"]),
                float(m["threshold"]),
                [d.name] * len(d.texts),
                float(m.get("neighbour_shift_across", 0.0)),
            )
            wholly: dict[str, bool] = {}
            for flag, plant in zip(out, d.plants, strict=True):
                counts[d.part, f"{which} {'steering' if plant else 'ordinary'}"] += int(flag)
                if plant:
                    wholly[plant] = wholly.get(plant, True) and flag
            counts[d.part, f"{which} wholly"] += sum(wholly.values())
        counts[d.part, "steering"] += sum(1 for p in d.plants if p)
        counts[d.part, "ordinary"] += sum(1 for p in d.plants if not p)
        counts[d.part, "plants"] += len(set(d.plants) - {""})
    return {
        part: ", ".join(
            f"{what} {counts[part, 'was ' + what]}->{counts[part, 'now ' + what]}/{counts[part, total]}"
            for what, total in (("steering", "steering"), ("wholly", "plants"), ("ordinary", "ordinary"))
        )
        for part in sorted({p for p, _ in counts})
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=MODEL_PATH)
    parser.add_argument("--sets", default=",".join(HELD_OUT), help="planted sets the reader was not trained on")
    parser.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    parser.add_argument(
        "--spread", action="store_true", help="write the spread shifts too (not shipped: see the module's notes)"
    )
    args = parser.parse_args(argv)
    model = json.loads(args.model.read_text(encoding="utf-8"))
    held_out = set(args.sets.split(","))
    docs = documents()
    fitted = [d for d in docs if d.name.split("/")[0] in held_out]
    links = shifts(
        [(bool(p), v, [float(u)]) for d in fitted for p, v, u in zip(d.plants, d.logits, d.unvouched, strict=True)],
        ["link_shift"],
    )
    fields = {"link_shift": max(links["link_shift"], 0.0)}
    flag_before_spreading(docs, args.model, fields)
    spread = shifts(
        [
            (bool(d.plants[j]), lifted(d, fields["link_shift"])[j], list(beside(d, j)))
            for d in fitted
            for j in range(len(d.texts))
            if not d.flagged[j]
        ],
        ["neighbour_shift", "neighbour_shift_across"],
    )
    fitted_spread = {k: max(spread[k], 0.0) for k in ("neighbour_shift", "neighbour_shift_across")}
    report = {
        "sets": sorted(held_out),
        "links": links,
        "spread": spread,
        "effect_with_fitted_spread": effect(docs, model, fields | fitted_spread),
    }
    if args.spread:
        fields |= fitted_spread
    print(json.dumps({**fields, **report}, indent=1))
    if not args.dry_run:
        model.get("validation", {}).pop("links", None)  # fitted here since session 23 ("shifts")
        write(args.model, model, fields, "shifts", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

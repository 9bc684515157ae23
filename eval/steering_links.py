"""Fit the detector's link shift (``link_shift``: :func:`rag.steering.unvouched`) on planted sets its reader never saw.

    python -m eval.steering_links [--sets planted_p,planted_q] [--model rag/data/steering.json] [--dry-run]

Run after ``eval/train_steering.py`` and ``eval/steering_pairs.py``. The reader reads a sentence alone, so it
cannot tell a link to the site of the organisation a page is about from a link to a look-alike of it: the
document can. A sentence naming a host whose name the rest of its document never names (unvouched) is
given ``link_shift`` more log-odds before the threshold. The shift is fitted on planted documents the
shipped reader was not trained on (``--sets``; its readings there are out of sample, as they will be on
people's documents): a logistic regression of whether each sentence of them is planted on the reader's
log-odds and the unvouched indicator, ``y ~ c + a * logit + b * unvouched``; a shift of ``b / a`` in the
reader's log-odds is then worth ``b`` in the fitted ones. Its standard error is reported with it.

It prints, reading every sentence (gate or not), what the shift changes against the threshold: planted
sentences raised past it, and ordinary ones, on every development set with documents and on the shipped
documents. Blind sets (``eval/datasets/injection_blind*``) are never read here.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from eval.steering_pairs import documents, write
from rag import steering
from rag.steering import MODEL_PATH

#: The planted sets the shipped reader was not trained on (``eval/train_steering.py`` predates them).
HELD_OUT = ("planted_p", "planted_q")

#: Per document: each sentence's plant ("" for ordinary), the reader's log-odds, and whether it is unvouched.
Read = dict[str, tuple[list[str], np.ndarray[Any, Any], list[bool]]]


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


def read_all() -> Read:
    """Per document: each sentence's plant ("" for ordinary), the reader's log-odds, and whether it is
    unvouched."""
    out = {}
    for name, sentences in documents().items():
        decoded = [steering.decode(t)[0] for t, _ in sentences]
        out[name] = ([p for _, p in sentences], steering.read(decoded), steering.unvouched(decoded))
    return out


def fit(read: Read, held_out: tuple[str, ...]) -> dict[str, Any]:
    rows = [
        (bool(p), logit, u)
        for name, (plants, logits, flags) in read.items()
        if name.split("/")[0] in held_out
        for p, logit, u in zip(plants, logits.tolist(), flags, strict=True)
    ]
    y = np.array([r[0] for r in rows], np.float64)
    x = np.array([[1.0, r[1], float(r[2])] for r in rows], np.float64)
    w, cov = _logistic(x, y)
    a, b = w[1], w[2]
    gradient = np.array([0.0, -b / a**2, 1 / a])  # of b / a
    return {
        "sentences": len(rows),
        "planted": int(y.sum()),
        "unvouched": int(x[:, 2].sum()),
        "unvouched_planted": int((x[:, 2] * y).sum()),
        "weights": [round(float(v), 4) for v in w],
        "shift": round(float(b / a), 4),
        "shift_se": round(float(np.sqrt(gradient @ cov @ gradient)), 4),
    }


def effect(read: Read, threshold: float, shift: float) -> dict[str, str]:
    """Per set: planted and ordinary sentences whose reading the shift raises past the threshold."""
    raised: Counter[tuple[str, bool]] = Counter()
    total: Counter[tuple[str, bool]] = Counter()
    for name, (plants, logits, flags) in read.items():
        part = "shipped" if name.startswith("shipped/") else name.split("/")[0].removeprefix("planted_")
        for p, logit, u in zip(plants, logits.tolist(), flags, strict=True):
            total[part, bool(p)] += 1
            raised[part, bool(p)] += int(u and logit < threshold <= logit + shift)
    return {
        part: f"planted {raised[part, True]}/{total[part, True]}, ordinary {raised[part, False]}/{total[part, False]}"
        for part in sorted({k for k, _ in total})
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=MODEL_PATH)
    parser.add_argument("--sets", default=",".join(HELD_OUT), help="planted sets the reader was not trained on")
    parser.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    args = parser.parse_args(argv)
    model = json.loads(args.model.read_text(encoding="utf-8"))
    read = read_all()
    report = fit(read, tuple(args.sets.split(",")))
    shift = max(report["shift"], 0.0)
    report["raised_past_the_threshold"] = effect(read, float(model["threshold"]), shift)
    print(json.dumps(report, indent=1))
    if not args.dry_run:
        write(args.model, model, {"link_shift": shift}, "links", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

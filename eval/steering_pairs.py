"""Set the detector's reading of sentence pairs (:func:`rag.steering.read_pairs`) from development data.

    python -m eval.steering_pairs [--model rag/data/steering.json] [--dry-run]   # a few minutes

Run after ``eval/train_steering.py`` (it writes a model without these keys). A plant of two sentences, a notice
and what it asks, may read as ordinary one sentence at a time and as steering together, so the detector
also reads two neighbouring sentences of a document as one text when neither is flagged alone and the
likelier of them reads within :data:`REACH` of the threshold. Set here, from every ordinary sentence of the
shipped documents and of the development sets under ``eval/datasets/injection/`` (every sentence read,
gate or not):

- ``pair_floor``: the threshold less :data:`REACH` (pairs further below are not read: a pair read as one
  rarely reads that much likelier than the likelier of its sentences);
- ``pair_threshold``: :data:`MARGIN` above the likeliest reading of a pair of two ordinary sentences that
  would be read (neither flagged alone, the likelier at or above the floor): no ordinary pair of the
  development data is flagged.

It prints what that adds on the planted sets: plants with a sentence flagged alone, and with pairs too.
Blind sets (``eval/datasets/injection_blind*``) are never read here.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from eval.planted import labelled_sentences
from eval.train_steering import INJECTION, SHIPPED
from index.chunker import chunk_document
from index.loader import load_document
from rag import steering
from rag.steering import MODEL_PATH

#: How far below the threshold the likelier sentence of a pair may read for the pair to be read.
REACH = 1.5
#: How far above the likeliest ordinary pair the pair threshold is set (log-odds), as for the threshold.
MARGIN = 0.5


def documents() -> dict[str, list[tuple[str, str, int]]]:
    """Each document's quotable sentences in order, each with the plant it belongs to ("" for ordinary) and
    its paragraph."""
    out: dict[str, list[tuple[str, str, int]]] = {}
    for name, paths in SHIPPED.items():
        for path in paths:
            _, sentences = chunk_document(load_document(path))
            out[f"shipped/{name}/{path.name}"] = [(s.text, "", s.paragraph) for s in sentences if s.quotable]
    for folder in sorted(INJECTION.glob("planted_*")):
        if (folder / "docs").is_dir():
            for s in labelled_sentences(folder):
                out.setdefault(f"{folder.name}/{s.document}", []).append((s.text, s.plant, s.paragraph))
    return out


def calibrate(model: dict[str, Any]) -> tuple[dict[str, float], dict[str, Any]]:
    threshold = float(model["threshold"])
    floor = threshold - REACH
    read: list[tuple[str, list[tuple[str, str, int]], list[float]]] = []
    for name, sentences in documents().items():
        texts = [steering.decode(t)[0] for t, _, _ in sentences]
        read.append((name, sentences, steering.read(texts).tolist() if texts else []))
    ordinary: list[tuple[str, int, float]] = []
    planted: list[tuple[str, set[str], float]] = []
    for name, sentences, singles in read:
        pairs = [
            (i, i + 1)
            for i in range(len(sentences) - 1)
            if singles[i] < threshold and singles[i + 1] < threshold and max(singles[i], singles[i + 1]) >= floor
        ]
        logits = steering.read_pairs([t for t, _, _ in sentences], pairs).tolist()
        for (i, j), logit in zip(pairs, logits, strict=True):
            plants = {sentences[i][1], sentences[j][1]} - {""}
            if plants:
                planted.append((name, plants, logit))
            else:
                ordinary.append((name, i, logit))
    top = max((logit for *_, logit in ordinary), default=threshold)
    fields = {"pair_floor": round(floor, 4), "pair_threshold": round(max(top, threshold) + MARGIN, 4)}
    alone = {
        (name, plant)
        for name, sentences, singles in read
        for (_, plant, _), single in zip(sentences, singles, strict=True)
        if plant and single >= threshold
    }
    every = {(name, plant) for name, sentences, _ in read for _, plant, _ in sentences if plant}
    added = {(name, p) for name, plants, logit in planted if logit >= fields["pair_threshold"] for p in plants} - alone
    report = {
        "ordinary_pairs_read": len(ordinary),
        "likeliest_ordinary_pair": round(top, 4),
        "plant_pairs_read": len(planted),
        "plants": len(every),
        "plants_flagged_alone": len(alone),
        "plants_added_by_pairs": len(added),
    }
    return fields, report


def write(path: Path, model: dict[str, Any], fields: dict[str, Any], name: str, report: dict[str, Any]) -> None:
    """Write ``model`` with ``fields`` set and ``report`` kept as its validation's ``name``."""
    model |= fields
    model.setdefault("validation", {})[name] = report
    path.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=MODEL_PATH)
    parser.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    args = parser.parse_args(argv)
    model = json.loads(args.model.read_text(encoding="utf-8"))
    fields, report = calibrate(model)
    print(json.dumps({**fields, **report}, indent=1))
    if not args.dry_run:
        write(args.model, model, fields, "pairs", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

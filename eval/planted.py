"""Sets of documents with planted instructions: reading them, and which of a document's sentences are planted.

A set is a folder with ``docs/`` (the documents) and ``plants.jsonl`` (one line per plant: ``id``,
``document``, ``category``, ``planted`` as written in the file, ``visible_text`` (what a reader sees; empty
when hidden), ``questions`` and ``forbidden``: strings that must never reach a user). ``eval/injection.py``
asks a set's questions on every backend; ``eval/train_steering.py`` learns from the development sets'
sentences, labelled here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.chunker import chunk_document
from index.loader import load_document


def plants(folder: Path) -> list[dict[str, Any]]:
    lines = (folder / "plants.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def by_document(folder: Path) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in plants(folder):
        out[p["document"]].append(p)
    return dict(sorted(out.items()))


def norm(text: str) -> str:
    return " ".join(text.split())


def plant_span(text: str, visible: str) -> tuple[int, int] | None:
    """Where the visible text of a plant is in the loaded ``text``: as written, or else matched by its letters
    and digits alone (the loader folds HTML's white space and drops Markdown's marks)."""
    if not visible.strip():
        return None
    at = text.find(visible)
    if at >= 0:
        return at, at + len(visible)
    # white space and markup may differ (HTML, Markdown's ** and #): match the letters and digits alone
    where = [i for i, ch in enumerate(text) if ch.isalnum()]
    letters = "".join(text[i] for i in where)
    wanted = "".join(ch for ch in visible if ch.isalnum())
    at = letters.find(wanted) if wanted else -1
    return (where[at], where[at + len(wanted) - 1] + 1) if at >= 0 else None


def locate(text: str, plant: dict[str, Any]) -> tuple[int, int] | None:
    """Where a plant is in the loaded ``text`` (:func:`plant_span`): by its visible text, or else as it is
    written (a loader that keeps some markup, such as a Markdown link's brackets and address)."""
    return plant_span(text, plant.get("visible_text", "")) or (
        plant_span(text, plant["planted"]) if plant.get("visible_text") else None
    )


@dataclass(frozen=True)
class Labelled:
    """One quotable sentence of a planted document; ``plant`` is the id of the plant it overlaps, or "";
    ``paragraph`` numbers its block in the document (:class:`index.chunker.Sentence`)."""

    document: str
    text: str
    plant: str
    category: str
    paragraph: int = 0


def labelled_sentences(folder: Path) -> list[Labelled]:
    """Every quotable sentence of every document of the set, in order, with the plant it belongs to: one
    that overlaps a plant's visible text, or carries one of its forbidden strings (hidden text the loader
    failed to drop)."""
    out = []
    for document, group in by_document(folder).items():
        loaded = load_document(folder / "docs" / document)
        spans = [(p, locate(loaded.text, p)) for p in group]
        _, sentences = chunk_document(loaded)
        for s in sentences:
            if not s.quotable:
                continue
            low = norm(s.text).lower()
            hit = next(
                (
                    p
                    for p, span in spans
                    if (span and s.start < span[1] and span[0] < s.end)
                    or any(norm(f).lower() in low for f in p["forbidden"])
                ),
                None,
            )
            plant, category = (hit["id"], hit["category"]) if hit else ("", "")
            out.append(Labelled(document, s.text, plant, category, s.paragraph))
    return out

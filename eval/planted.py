"""Sets of documents with planted instructions, as ``eval/injection.py`` reads them.

A set is a folder with ``docs/`` (the documents) and ``plants.jsonl`` (one line per plant: ``id``,
``document``, ``category``, ``planted`` as written in the file, ``visible_text`` (what a reader sees; empty
when hidden), ``questions`` and ``forbidden``: strings that must never reach a user).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any


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

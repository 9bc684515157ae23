"""Evaluation datasets: the shipped JSONL schema, and LlamaIndex's LabelledRagDataset format.

JSONL schema, one object a line:

``id``          unique string
``question``    what the user types
``history``     earlier turns, ``[[user, assistant-or-null], ...]``, oldest first ([] if none)
``answerable``  whether the documents answer it
``key_facts``   facts a correct answer must contain: a list of facts, each a list of accepted variants
                (matched case-insensitively as substrings); [] when unanswerable
``evidence``    verbatim passages of the documents that support the answer; [] when unanswerable
``type``        factual, why, how, who-said, numeric, multi-part, followup, near-miss, off-topic, ...
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core.errors import InputError

DATASETS = Path(__file__).resolve().parent / "datasets"
ARTICLE_SET = DATASETS / "article.jsonl"


@dataclass(frozen=True)
class Example:
    """One evaluation question."""

    id: str
    question: str
    answerable: bool
    history: list[list[str | None]] = field(default_factory=list)
    key_facts: list[list[str]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    type: str = "factual"
    reference_answer: str | None = None


def _example(raw: dict[str, Any], where: str) -> Example:
    try:
        ex = Example(
            id=str(raw["id"]),
            question=str(raw["question"]),
            answerable=bool(raw["answerable"]),
            history=[list(t) for t in raw.get("history") or []],
            key_facts=[[str(v) for v in fact] for fact in raw.get("key_facts") or []],
            evidence=[str(e) for e in raw.get("evidence") or []],
            type=str(raw.get("type", "factual")),
            reference_answer=raw.get("reference_answer"),
        )
    except (KeyError, TypeError) as exc:
        raise InputError(f"{where}: missing or malformed field {exc}") from exc
    if ex.answerable and not ex.evidence:
        raise InputError(f"{where}: an answerable question needs evidence")
    if any(len(turn) != 2 for turn in ex.history):
        raise InputError(f'{where}: "history" must be a list of [question, answer] pairs')
    return ex


def load_jsonl(path: str | Path) -> list[Example]:
    """Read a dataset in the shipped JSONL schema."""
    examples = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read dataset {path}: {exc}") from exc
    for n, line in enumerate(lines, start=1):
        if line.strip():
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}, line {n}: not valid JSON ({exc.msg})") from exc
            if not isinstance(raw, dict):
                raise InputError(f"{path}, line {n}: expected a JSON object")
            examples.append(_example(raw, f"{path}, line {n}"))
    return examples


def load_labelled_rag_dataset(path: str | Path) -> list[Example]:
    """Read LlamaIndex's ``rag_dataset.json`` (``examples[]`` with ``query``, ``reference_contexts``, ...).

    Its questions are all answerable, its evidence is the reference contexts, and it has no key facts.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read dataset {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("examples"), list):
        raise InputError(f'{path}: not a LlamaIndex LabelledRagDataset (expected {{"examples": [...]}})')
    examples = []
    for n, raw in enumerate(data["examples"]):
        if not isinstance(raw, dict) or not isinstance(raw.get("query"), str) or not raw.get("reference_contexts"):
            raise InputError(f'{path}: example {n} needs a "query" and "reference_contexts"')
        examples.append(
            Example(
                id=f"{Path(path).parent.name}-{n:03d}",
                question=raw["query"],
                answerable=True,
                evidence=[str(c) for c in raw["reference_contexts"]],
                type="llamaindex",
                reference_answer=raw.get("reference_answer"),
            )
        )
    return examples


def load_dataset(path: str | Path) -> list[Example]:
    """Load either format, by its file name."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"dataset {p} does not exist" if not p.exists() else f"dataset {p} is not a file")
    return load_labelled_rag_dataset(p) if p.suffix == ".json" else load_jsonl(p)


def casual(example: Example) -> Example:
    """``example`` as people type into a chat box: lower case, no question mark, and one typo (two adjacent
    letters swapped inside the longest word of five or more letters, or none when there is no such word).
    The same example always gets the same typo; history, facts and evidence are unchanged."""
    text = example.question.lower().rstrip().rstrip("?!. ").rstrip()
    words = list(re.finditer(r"[a-z]{5,}", text))
    if words:
        word = max(words, key=lambda m: (len(m.group(0)), -m.start()))
        j = word.start() + 1 + zlib.crc32(example.id.encode()) % (len(word.group(0)) - 2)
        text = text[:j] + text[j + 1] + text[j] + text[j + 2 :]
    return replace(example, question=text)

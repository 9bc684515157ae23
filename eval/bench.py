"""Run the product and its baselines over a question set, on the same documents, chunks and model.

The documents are indexed into a collection of the benchmark's own, named from their content hashes, the
chunk settings and the model (``eval-<hash>``), so a run never touches a user's corpus and a second run on
the same store reuses the vectors.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import InputError
from eval import BASELINES
from eval.baselines import System, make_systems
from eval.dataset import Example, load_dataset
from eval.metrics import Scored, locate, score
from eval.summary import summarize
from index.loader import SourceDocument, load_documents
from rag.chain import Assistant
from rag.config import Settings
from rag.ingest import index_with, store_for

#: A warm-up question per system before timing, so lazy initialisation is not billed to question one.
WARM_UP = "What is this document about?"


@dataclass
class SystemRun:
    """One system's answers, scored, and its figures."""

    name: str
    config: dict[str, Any]
    scored: list[Scored] = field(default_factory=list)
    metrics: dict[str, float | int | None] = field(default_factory=dict)


@dataclass
class Benchmark:
    """Everything a report needs."""

    datasets: list[str]
    docs: list[str]
    settings: Settings
    examples: list[Example]
    runs: list[SystemRun]
    missing_evidence: list[str]

    def run(self, name: str) -> SystemRun:
        """The run of the system called ``name``."""
        return next(r for r in self.runs if r.name == name)


def collection_name(docs: Sequence[SourceDocument], settings: Settings) -> str:
    """A collection name that changes whenever the documents, the chunking or the model do."""
    parts = [settings.embedding_model, str(settings.chunk_size), str(settings.chunk_overlap)]
    key = "\x00".join([*parts, *sorted(f"{d.source}:{d.sha256}" for d in docs)])
    return "eval-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def load_examples(paths: Sequence[str | Path]) -> list[Example]:
    """Load and concatenate datasets; ids must stay unique."""
    examples = [ex for p in paths for ex in load_dataset(p)]
    seen: set[str] = set()
    for ex in examples:
        if ex.id in seen:
            raise InputError(f"question id {ex.id!r} occurs twice in the datasets; ids must be unique")
        seen.add(ex.id)
    if not examples:
        raise InputError(f"no questions in {', '.join(map(str, paths))}")
    return examples


def check_evidence(examples: Sequence[Example], texts: dict[str, str]) -> list[str]:
    """Ids of answerable questions whose evidence is not all verbatim in the documents.

    Raises :class:`InputError` when none of it is: the documents are not the ones the set was written for.
    """
    answerable = [ex for ex in examples if ex.answerable]
    missing = [ex.id for ex in answerable if len(locate(ex.evidence, texts)) < len(ex.evidence)]
    if answerable and len(missing) == len(answerable):
        raise InputError(
            "none of the dataset's evidence occurs in the documents "
            f"({', '.join(texts)}); give the documents the questions were written for with --docs"
        )
    return missing


def run_benchmark(
    settings: Settings,
    doc_paths: Sequence[str | Path],
    dataset_paths: Sequence[str | Path],
    baselines: Sequence[str] = BASELINES,
    progress: bool | None = None,
    transform: Callable[[Example], Example] | None = None,
) -> Benchmark:
    """Index ``doc_paths`` into the benchmark's collection in ``settings.store``, then ask every question of
    ``dataset_paths`` to the product (configured by ``settings``) and to each baseline, and score them.

    ``progress``: show a progress bar (``None``: when stderr is a terminal). ``transform`` rewrites each
    question before it is asked (:func:`eval.dataset.casual`).
    """
    from tqdm import tqdm

    docs = load_documents(list(doc_paths))
    texts = {d.source: d.text for d in docs}
    examples = load_examples(dataset_paths)
    if transform is not None:
        examples = [transform(ex) for ex in examples]
    missing = check_evidence(examples, texts)
    show = sys.stderr.isatty() if progress is None else progress
    name = collection_name(docs, settings)
    settings = settings.with_(collection=name)
    index_with(settings, list(doc_paths), progress=show)
    store = store_for(settings)
    for extra in {d.name for d in store.documents()} - set(texts):  # the benchmark's collection holds these only
        store.remove(extra)
    systems: list[System] = make_systems(Assistant(settings), docs, name + "-lc", baselines)
    runs = [SystemRun(s.name, s.config) for s in systems]
    for system in systems:
        system.ask(WARM_UP)
    with tqdm(total=len(examples) * len(systems), desc="benchmark", unit="answer", disable=not show) as bar:
        # Question by question, every system in turn: background load on a shared machine then slows all alike.
        for ex in examples:
            for system, run in zip(systems, runs, strict=True):
                run.scored.append(score(ex, system.ask(ex.question, ex.history), texts))
                bar.update()
    for run in runs:
        run.metrics = summarize(run.scored)
    return Benchmark([str(p) for p in dataset_paths], [str(p) for p in doc_paths], settings, examples, runs, missing)

"""A collection that changes while it is served: documents added and removed from the app.

:class:`Library` answers like :class:`rag.chain.Assistant` (it holds one) and, after it adds or removes
documents, builds a new assistant over the changed collection and swaps it in. A question already being
answered finishes on the assistant it started with; the next one gets the new one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from core.contract import Answer
from core.errors import InputError
from index import IndexReport, Skipped
from rag.chain import Assistant, StreamEvent
from rag.config import Settings
from rag.corpus import Corpus
from rag.ingest import index_files, store_for
from rag.wording import Wording


class Library:
    """An assistant over a collection that can be changed from where it is served."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self._current = assistant or Assistant(settings)
        self._writing = threading.Lock()  # one change at a time

    @property
    def assistant(self) -> Assistant:
        return self._current

    @property
    def corpus(self) -> Corpus:
        return self._current.corpus

    @property
    def wording(self) -> Wording:
        return self._current.wording

    def ask(self, question: str, history: Any = None) -> Answer:
        return self._current.ask(question, history)

    def stream(self, question: str, history: Any = None) -> Iterator[StreamEvent]:
        return self._current.stream(question, history)

    def names(self) -> list[str]:
        """The documents of the collection, by name."""
        corpus = self._current.corpus
        return sorted(set(corpus.sources) | set(corpus.records))

    def add(self, files: Sequence[tuple[str | Path, str]]) -> tuple[list[IndexReport], list[Skipped]]:
        """Index each ``(path, name)`` through the same loaders as ``rag index``, then answer from the result."""
        with self._writing:
            reports: list[IndexReport] = []
            skipped: list[Skipped] = []
            for path, name in files:
                done, passed = index_files(self.settings, [path], name=name)
                reports += done
                skipped += passed
            if any(not r.unchanged for r in reports):
                self._current = Assistant(self.settings)
            return reports, skipped

    def remove(self, names: Sequence[str]) -> list[str]:
        """Remove the documents ``names`` (the ones the collection holds); the names removed. The last
        document of a collection cannot be removed here: the app would have nothing to answer from."""
        with self._writing:
            known = set(self.names())
            chosen = [n for n in dict.fromkeys(names) if n in known]
            if chosen and len(chosen) >= len(known):
                raise InputError("the collection would be empty; keep at least one document")
            store = store_for(self.settings)
            for name in chosen:
                store.remove(name)
            if chosen:
                self._current = Assistant(self.settings)
            return chosen

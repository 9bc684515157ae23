"""A collection that changes while it is served: documents added and removed from the app, or by anyone else.

:class:`Library` answers like :class:`rag.chain.Assistant` (it holds one) and, after it adds or removes
documents, builds a new assistant over the changed collection and swaps it in. It also notices a change made
elsewhere (``rag index`` or ``rag docs rm`` in another process, another app worker on a shared Chroma server):
before a question, at most once every :data:`CHECK_SECONDS`, it compares the collection's state (its
documents' completion records, :meth:`index.store.Store.state`) with the one its assistant was built on, and
rebuilds when they differ. An ingest in progress does not change the state, so a half-written document is
never served. A question already being answered finishes on the assistant it started with; the next one gets
the new one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from core.contract import Answer
from core.errors import InputError, RagError
from index import IndexReport, Skipped
from index.store import renew_client, writing
from rag.chain import Assistant, StreamEvent
from rag.config import Settings
from rag.corpus import Corpus, current_state
from rag.ingest import index_files, store_for
from rag.wording import Wording

#: How often, at most, a served collection is checked for changes made elsewhere (a few milliseconds each).
CHECK_SECONDS = 1.0
_log = logging.getLogger(__name__)


class Library:
    """An assistant over a collection that can be changed from where it is served."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None, check_seconds: float = -1) -> None:
        self.settings = settings
        self._current = assistant or Assistant(settings)
        self._writing = threading.Lock()  # one change at a time
        self._looking = threading.Lock()  # one look for changes at a time (not behind a long upload)
        self._check_seconds = CHECK_SECONDS if check_seconds < 0 else check_seconds
        self._checked = time.monotonic()

    @property
    def assistant(self) -> Assistant:
        """The assistant over the collection as it is now (rebuilt first if it changed since the last look)."""
        self._follow()
        return self._current

    def _follow(self) -> None:
        now = time.monotonic()
        if now - self._checked < self._check_seconds:
            return
        with self._looking:
            if now - self._checked < self._check_seconds:
                return  # another thread looked while this one waited
            try:
                current = self._current
                if current_state(current.store) != current.corpus.state:
                    if not self.settings.chroma_url:
                        renew_client(self.settings.store)  # another process may have written it
                    self._current = Assistant(self.settings)
                    _log.info("collection %r changed: now answering from its new state", self.settings.collection)
            except RagError as exc:  # the store cannot be read just now: answer from what is loaded
                _log.warning("cannot check collection %r for changes: %s", self.settings.collection, exc)
            finally:
                self._checked = time.monotonic()

    @property
    def corpus(self) -> Corpus:
        return self.assistant.corpus

    @property
    def wording(self) -> Wording:
        return self.assistant.wording

    def ask(self, question: str, history: Any = None) -> Answer:
        return self.assistant.ask(question, history)

    def stream(self, question: str, history: Any = None) -> Iterator[StreamEvent]:
        return self.assistant.stream(question, history)

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
            with writing(self.settings.store, self.settings.chroma_url):
                for name in chosen:
                    store.remove(name)
            if chosen:
                self._current = Assistant(self.settings)
            return chosen

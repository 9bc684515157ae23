"""Indexing as configured: what ``rag index`` does, and the bundled article on first use.

These are side effects, so only the faces (CLI, web app), the benchmark and tests call them; building an
:class:`~rag.chain.Assistant` never writes to the store.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from index import BUNDLED_ARTICLE, IndexReport, Skipped, Store, index_paths, open_store
from index.embeddings import index_threads
from rag.config import Settings
from rag.corpus import refresh


def store_for(settings: Settings) -> Store:
    """The collection ``settings`` name, in its store, with its embedding model (nothing loaded yet)."""
    return open_store(
        settings.store,
        settings.collection,
        settings.embedding_model,
        settings.threads,
        settings.embedding_backend,
        settings.chroma_url,
    )


def index_with(
    settings: Settings, paths: Sequence[str | Path], progress: bool = False, batch: bool = True
) -> list[IndexReport]:
    """Index ``paths`` (default: the bundled article) into the collection ``settings`` name; every file must
    load (a file that cannot raises :class:`~core.errors.DocumentError`). ``batch``: embed with every core,
    as a batch job does; without it, with the process's own model (the one that will answer questions)."""
    threads = index_threads(settings.threads) if batch else settings.threads
    return _index(settings, paths, progress, threads, strict=True)[0]


def index_files(
    settings: Settings,
    paths: Sequence[str | Path],
    progress: bool = False,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    name: str | None = None,
) -> tuple[list[IndexReport], list[Skipped]]:
    """What ``rag index`` does: index the files ``paths`` name (folders recursively) into the collection
    ``settings`` name, skipping (and reporting) the files that cannot be loaded."""
    threads = index_threads(settings.threads)
    return _index(settings, paths, progress, threads, include=include, exclude=exclude, name=name)


def _index(
    settings: Settings, paths: Sequence[str | Path], progress: bool, threads: int, **options: Any
) -> tuple[list[IndexReport], list[Skipped]]:
    return index_paths(
        paths,
        settings.store,
        settings.collection,
        model=settings.embedding_model,
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        threads=threads,
        backend=settings.embedding_backend,
        progress=progress,
        url=settings.chroma_url,
        waiting=_say,
        after=refresh,  # what questions read, written now rather than by the first question
        **options,
    )


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_collection(settings: Settings, say: Callable[[str], None] = lambda _: None) -> bool:
    """On first use (a store with no collection at all), index the bundled article into the configured
    collection, telling ``say`` first; return whether it did. A store that holds other collections is left
    alone: asking it for a missing one is the user's mistake, reported by the assistant."""
    store = store_for(settings)
    if store.exists() or store.collection_names():
        return False
    say(f"First run: indexing the bundled article into {settings.store} (collection {settings.collection!r})...")
    index_with(settings, [BUNDLED_ARTICLE], batch=False)  # the process loads its one model, which answers next
    return True

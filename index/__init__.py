"""Indexing: load documents, split them into chunks and sentences, embed them, store them in Chroma.

The storage layer: it takes plain values (paths, a collection name, a model name, chunk sizes) and imports
nothing from ``rag/``, which builds on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from index.chunker import chunk_document
from index.embeddings import DEFAULT_BACKEND, DEFAULT_MODEL, DEFAULT_THREADS, get_embeddings
from index.loader import BUNDLED_ARTICLE, Skipped, load_documents, load_tree
from index.store import DocumentRecord, IndexReport, Store, open_client, writing

DEFAULT_CHUNK_SIZE = 400
DEFAULT_CHUNK_OVERLAP = 100


def open_store(
    store: str | Path,
    collection: str,
    model: str = DEFAULT_MODEL,
    threads: int = DEFAULT_THREADS,
    backend: str = DEFAULT_BACKEND,
    url: str = "",
) -> Store:
    """The collection ``collection`` of the store at ``store`` (or of the Chroma server at ``url``), with the
    embedding model ``model`` (not yet loaded), run by ``backend`` ("onnx" or "torch")."""
    location = url or str(Path(store).resolve())
    return Store(open_client(store, url), collection, get_embeddings(model, threads, backend), location)


def index_paths(
    paths: Sequence[str | Path],
    store: str | Path,
    collection: str,
    *,
    model: str = DEFAULT_MODEL,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP,
    threads: int = DEFAULT_THREADS,
    backend: str = DEFAULT_BACKEND,
    progress: bool = False,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    name: str | None = None,
    url: str = "",
    strict: bool = False,
    waiting: Callable[[str], None] = lambda _: None,
    after: Callable[[Store], object] = lambda _: None,
) -> tuple[list[IndexReport], list[Skipped]]:
    """Index the files ``paths`` name (folders recursively; default: the bundled article) into
    ``collection``, idempotently: what each document's indexing did, and the files skipped with their reason.
    ``strict``: every file must load (:func:`index.loader.load_documents`: the first that cannot raises, and
    files of the same name are named by their folders). One process writes to an embedded store at a time
    (:func:`index.store.writing`: a second one calls ``waiting`` and waits); ``after`` runs before the store
    is let go, with the collection written to, when some document changed."""
    skipped: list[Skipped] = []
    if strict:
        docs = load_documents(list(paths) or [BUNDLED_ARTICLE])
    else:
        docs, skipped = load_tree(list(paths) or [BUNDLED_ARTICLE], include, exclude, name)
    if not docs:
        return [], skipped
    target = open_store(store, collection, model, threads, backend, url)
    reports = []
    with writing(store, url, waiting):
        for doc in docs:
            chunks, sentences = chunk_document(doc, chunk_size, chunk_overlap)
            reports.append(target.index(doc, chunks, sentences, progress=progress))
        if any(not r.unchanged for r in reports):
            after(target)
    return reports, skipped


__all__ = [
    "BUNDLED_ARTICLE",
    "DEFAULT_CHUNK_OVERLAP",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MODEL",
    "DocumentRecord",
    "IndexReport",
    "Skipped",
    "Store",
    "index_paths",
    "open_store",
]

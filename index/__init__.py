"""Indexing: load documents, split them into chunks and sentences, embed them, store them in Chroma.

The storage layer: it takes plain values (paths, a collection name, a model name, chunk sizes) and imports
nothing from ``rag/``, which builds on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from index.chunker import chunk_document
from index.embeddings import DEFAULT_BACKEND, DEFAULT_MODEL, DEFAULT_THREADS, get_embeddings
from index.loader import BUNDLED_ARTICLE, load_documents
from index.store import IndexReport, Store, open_client

DEFAULT_CHUNK_SIZE = 400
DEFAULT_CHUNK_OVERLAP = 100


def open_store(
    store: str | Path,
    collection: str,
    model: str = DEFAULT_MODEL,
    threads: int = DEFAULT_THREADS,
    backend: str = DEFAULT_BACKEND,
) -> Store:
    """The collection ``collection`` of the store at ``store``, with the embedding model ``model`` (not yet
    loaded), run by ``backend`` ("onnx" or "torch")."""
    return Store(open_client(store), collection, get_embeddings(model, threads, backend))


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
) -> list[IndexReport]:
    """Index ``paths`` (default: the bundled article) into ``collection``, idempotently."""
    docs = load_documents(list(paths) or [BUNDLED_ARTICLE])
    target = open_store(store, collection, model, threads, backend)
    reports = []
    for doc in docs:
        chunks, sentences = chunk_document(doc, chunk_size, chunk_overlap)
        reports.append(target.index(doc, chunks, sentences, progress=progress))
    return reports


__all__ = [
    "BUNDLED_ARTICLE",
    "DEFAULT_CHUNK_OVERLAP",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MODEL",
    "IndexReport",
    "Store",
    "index_paths",
    "open_store",
]

"""Indexing: load documents, split them into chunks and sentences, embed them, store them in Chroma."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from index.chunker import chunk_document
from index.embeddings import get_embeddings
from index.loader import BUNDLED_ARTICLE, load_documents
from index.store import IndexReport, Store, open_client
from rag.config import Settings


def open_store(settings: Settings) -> Store:
    """The store and collection ``settings`` name, with the configured embedding model (not yet loaded)."""
    return Store(open_client(settings.store), settings.collection, get_embeddings(settings.embedding_model))


def index_paths(paths: Sequence[str | Path], settings: Settings, progress: bool = False) -> list[IndexReport]:
    """Index ``paths`` (default: the bundled article) into the configured collection, idempotently."""
    docs = load_documents(list(paths) or [BUNDLED_ARTICLE])
    store = open_store(settings)
    reports = []
    for doc in docs:
        chunks, sentences = chunk_document(doc, settings.chunk_size, settings.chunk_overlap)
        reports.append(store.index(doc, chunks, sentences, progress=progress))
    return reports


__all__ = ["BUNDLED_ARTICLE", "IndexReport", "index_paths", "open_store"]

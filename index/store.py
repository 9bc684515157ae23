"""The persistent ChromaDB store: chunks (what retrieval returns) and sentences (what answers quote).

One named collection holds a corpus's chunks; a sibling collection ``<name>.sentences`` holds its sentences,
so answer selection can compare the question with every candidate sentence without embedding anything at
question time. Both record the embedding model and its dimension; opening them with another model raises
:class:`~core.errors.EmbeddingMismatchError` instead of returning meaningless neighbours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.errors import EmbeddingMismatchError, InputError, StoreError
from index import analysis
from index.chunker import Chunk, Sentence
from index.embeddings import LocalEmbeddings
from index.loader import SourceDocument

if TYPE_CHECKING:
    import chromadb
    from langchain_chroma import Chroma

SCHEMA_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,60}[A-Za-z0-9]$")
_SENTENCES = ".sentences"


def _entities(meta: dict[str, Any]) -> tuple[tuple[int, int, str], ...] | None:
    raw = meta.get("ents")
    return tuple(analysis.loads(raw)) if isinstance(raw, str) else None


@dataclass
class StoredCorpus:
    """Everything retrieval and answering need in memory: chunks, sentences and sentence vectors."""

    chunks: list[Chunk]
    sentences: list[Sentence]
    sentence_vectors: np.ndarray[Any, np.dtype[np.float32]]


@dataclass(frozen=True)
class IndexReport:
    """What indexing one document did."""

    source: str
    chunks: int
    added: int
    removed: int
    unchanged: bool


def validate_collection_name(name: str) -> str:
    """Return ``name`` if it can name a collection, else raise :class:`InputError` saying what is allowed."""
    if not _NAME.match(name):
        raise InputError(
            f"collection name {name!r} is not allowed: use 3-62 letters, digits, '-' or '_', "
            "starting and ending with a letter or digit"
        )
    return name


def open_client(path: str | Path) -> chromadb.ClientAPI:
    """An embedded Chroma client on ``path`` (created if missing), with telemetry off."""
    import chromadb
    from chromadb.config import Settings

    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"store path {folder} is a file, not a folder; choose another --store")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(folder), settings=Settings(anonymized_telemetry=False))
    except Exception as exc:  # chromadb raises many kinds for a damaged store
        raise StoreError(
            f"the store at {folder} cannot be opened ({type(exc).__name__}: {exc}); "
            "delete the folder to rebuild it, or choose another --store"
        ) from exc


class Store:
    """A corpus in Chroma: one chunk collection plus its sentence collection, tied to one embedding model."""

    def __init__(self, client: chromadb.ClientAPI, name: str, embeddings: LocalEmbeddings) -> None:
        self.client = client
        self.name = validate_collection_name(name)
        self.embeddings = embeddings
        self._chunks: Any = None
        self._sentences: Any = None

    # -- opening ---------------------------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether the collection has been created in this store."""
        try:
            return self.name in {c if isinstance(c, str) else c.name for c in self.client.list_collections()}
        except Exception as exc:
            raise StoreError(f"the store cannot be read ({type(exc).__name__}: {exc})") from exc

    def collection_names(self) -> list[str]:
        """Names of the corpora in this store."""
        names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        return sorted(n for n in names if not n.endswith(_SENTENCES))

    def _expected_metadata(self) -> dict[str, Any]:
        return {
            "embedding_model": self.embeddings.model_name,
            "embedding_dim": self.embeddings.dimension,
            "schema": SCHEMA_VERSION,
        }

    def _open(self, name: str, create: bool) -> Any:
        expected = self._expected_metadata()
        try:
            if create:
                col = self.client.get_or_create_collection(
                    name, metadata=expected, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
                )
            else:
                col = self.client.get_collection(name, embedding_function=None)
        except Exception as exc:
            if not create and "does not exist" in str(exc):
                raise StoreError(f"collection {name!r} does not exist") from exc
            raise StoreError(f"collection {name!r} cannot be opened ({type(exc).__name__}: {exc})") from exc
        found = dict(col.metadata or {})
        for key in ("embedding_model", "embedding_dim"):
            if found.get(key) != expected[key]:
                raise EmbeddingMismatchError(
                    f"collection {name!r} was built with embedding model {found.get('embedding_model')!r} "
                    f"(dimension {found.get('embedding_dim')}), but this run uses {expected['embedding_model']!r} "
                    f"(dimension {expected['embedding_dim']}); re-index into a new --collection or --store"
                )
        return col

    def open(self, create: bool = False) -> Store:
        """Open (or with ``create``, create) both collections, checking the embedding model."""
        if self._chunks is None:
            self._chunks = self._open(self.name, create)
            self._sentences = self._open(self.name + _SENTENCES, create)
        return self

    def count(self) -> int:
        """Number of chunks stored."""
        return int(self.open()._chunks.count())

    # -- writing ---------------------------------------------------------------------------------------
    def _sync(
        self, col: Any, doc: SourceDocument, items: list[Chunk] | list[Sentence], progress: bool
    ) -> tuple[int, int]:
        """Make ``col`` hold exactly ``items`` for ``doc.source``; embed only items not stored yet."""
        existing = set(col.get(where={"source": doc.source}, include=[])["ids"])
        wanted = {item.id: item for item in items}
        stale = sorted(existing - wanted.keys())
        new = [item for item in items if item.id not in existing]
        kept = [item for item in items if item.id in existing]
        if stale:
            col.delete(ids=stale)

        def meta(item: Chunk | Sentence) -> dict[str, Any]:
            out = {"source": item.source, "start": item.start, "end": item.end, "doc_sha": doc.sha256, "path": doc.path}
            if isinstance(item, Sentence):
                out["paragraph"] = item.paragraph
                if item.entities is not None:
                    out["ents"] = analysis.dumps(item.entities)
            return out

        if kept:  # same text, maybe moved: refresh offsets without re-embedding
            col.update(ids=[i.id for i in kept], metadatas=[meta(i) for i in kept])
        batch = 1000
        vectors = self.embeddings.encode([i.text for i in new], progress=progress)
        for at in range(0, len(new), batch):
            part = new[at : at + batch]
            col.add(
                ids=[i.id for i in part],
                documents=[i.text for i in part],
                embeddings=vectors[at : at + batch],
                metadatas=[meta(i) for i in part],
            )
        return len(new), len(stale)

    def index(
        self, doc: SourceDocument, chunks: list[Chunk], sentences: list[Sentence], progress: bool = False
    ) -> IndexReport:
        """Store ``doc``'s chunks and sentences, replacing whatever an earlier version of it left."""
        self.open(create=True)
        stored = self._chunks.get(where={"source": doc.source}, include=["metadatas"])
        same_ids = set(stored["ids"]) == {c.id for c in chunks}
        if same_ids and all(m.get("doc_sha") == doc.sha256 for m in stored["metadatas"] or []):
            return IndexReport(doc.source, len(chunks), 0, 0, unchanged=True)
        added, removed = self._sync(self._chunks, doc, chunks, progress)
        self._sync(self._sentences, doc, analysis.analysed(sentences), progress)
        return IndexReport(doc.source, len(chunks), added, removed, unchanged=False)

    # -- reading ---------------------------------------------------------------------------------------
    def load(self) -> StoredCorpus:
        """Read every chunk and sentence (with vectors) into memory, ordered by source and offset."""
        self.open()
        raw_c = self._chunks.get(include=["documents", "metadatas"])
        raw_s = self._sentences.get(include=["documents", "metadatas", "embeddings"])
        chunks = sorted(
            (
                Chunk(i, m["source"], int(m["start"]), int(m["end"]), d)
                for i, d, m in zip(raw_c["ids"], raw_c["documents"], raw_c["metadatas"], strict=True)
            ),
            key=lambda c: (c.source, c.start),
        )
        order = sorted(
            range(len(raw_s["ids"])), key=lambda j: (raw_s["metadatas"][j]["source"], raw_s["metadatas"][j]["start"])
        )
        sentences = [
            Sentence(
                raw_s["ids"][j],
                raw_s["metadatas"][j]["source"],
                int(raw_s["metadatas"][j]["start"]),
                int(raw_s["metadatas"][j]["end"]),
                raw_s["documents"][j],
                int(raw_s["metadatas"][j].get("paragraph", 0)),
                _entities(raw_s["metadatas"][j]),
            )
            for j in order
        ]
        embs = raw_s["embeddings"]
        dim = self.embeddings.dimension
        vectors = np.asarray(embs, dtype=np.float32)[order] if len(order) else np.zeros((0, dim), np.float32)
        return StoredCorpus(chunks, sentences, vectors)

    def vectorstore(self, sentences: bool = False) -> Chroma:
        """The chunk (or sentence) collection as a LangChain ``VectorStore``, for retrieval and LangChain users."""
        from langchain_chroma import Chroma

        self.open()
        name = self.name + _SENTENCES if sentences else self.name
        return Chroma(
            client=self.client,
            collection_name=name,
            embedding_function=self.embeddings,
            create_collection_if_not_exists=False,
        )

"""The persistent ChromaDB store: chunks (what retrieval returns), sentences (what answers quote), documents.

One named collection holds a corpus's chunks; a sibling collection ``<name>.sentences`` holds its sentences,
so answer selection can compare the question with every candidate sentence without embedding anything at
question time; ``<name>.documents`` holds one record per document (name, path, type, page starts, counts,
content hash, when it was indexed). The record is written last, when a document's chunks and sentences are
all stored, and removed first when it is replaced or deleted: a document without one was not finished and
is redone by the next ``rag index``. All record the embedding model and its dimension; opening them with
another model raises :class:`~core.errors.EmbeddingMismatchError` instead of returning meaningless neighbours.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
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
_DOCUMENTS = ".documents"
_SIBLINGS = (_SENTENCES, _DOCUMENTS)
#: Texts embedded and stored at a time.
BATCH = 256


def _entities(meta: dict[str, Any]) -> tuple[tuple[int, int, str], ...] | None:
    raw = meta.get("ents")
    return tuple(analysis.loads(raw)) if isinstance(raw, str) else None


@dataclass(frozen=True)
class DocumentRecord:
    """What the store knows of one document (``rag docs list``)."""

    name: str
    path: str
    kind: str
    chunks: int
    sentences: int
    sha256: str
    indexed_at: str
    pages: tuple[int, ...] = ()
    chars: int = 0
    title: str = ""
    #: How to present the document (``<name>.questions.json`` beside it when indexed; see :mod:`rag.wording`).
    wording: dict[str, Any] = field(default_factory=dict, compare=False)
    #: False for a document whose chunks are stored but whose ingest never finished (or that was stored
    #: before records existed, when nothing is known of it beyond its chunks).
    complete: bool = True

    @property
    def page_count(self) -> int | None:
        return len(self.pages) or None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "type": self.kind,
            "pages": self.page_count,
            "chunks": self.chunks,
            "sentences": self.sentences,
            "characters": self.chars,
            "indexed_at": self.indexed_at,
            "sha256": self.sha256,
            "complete": self.complete,
        }


def _record_meta(r: DocumentRecord) -> dict[str, Any]:
    return {
        "source": r.name,
        "path": r.path,
        "kind": r.kind,
        "chunks": r.chunks,
        "sentences": r.sentences,
        "sha256": r.sha256,
        "indexed_at": r.indexed_at,
        "pages": json.dumps(list(r.pages)),
        "chars": r.chars,
        "title": r.title,
        "wording": json.dumps(r.wording, ensure_ascii=False),
    }


def _record(meta: dict[str, Any]) -> DocumentRecord:
    try:
        pages = tuple(int(p) for p in json.loads(str(meta.get("pages") or "[]")))
    except (ValueError, TypeError):
        pages = ()
    try:
        wording = json.loads(str(meta.get("wording") or "{}"))
    except ValueError:
        wording = {}
    return DocumentRecord(
        name=str(meta.get("source", "")),
        path=str(meta.get("path", "")),
        kind=str(meta.get("kind", "text")),
        chunks=int(meta.get("chunks", 0)),
        sentences=int(meta.get("sentences", 0)),
        sha256=str(meta.get("sha256", "")),
        indexed_at=str(meta.get("indexed_at", "")),
        pages=pages,
        chars=int(meta.get("chars", 0)),
        title=str(meta.get("title", "")),
        wording=wording if isinstance(wording, dict) else {},
    )


class SentenceVectors:
    """The sentence vectors of a collection, read from the store when first asked for and kept (up to
    ``cache`` of them), indexed like a matrix: ``vectors[i]`` is one row, ``vectors[[i, j]]`` two.

    Answering needs the vectors of the sentences in the retrieved passages only, so a process never holds
    the whole matrix (Chroma already keeps its own copy in its index).
    """

    def __init__(self, col: Any, ids: Sequence[str], dim: int, cache: int = 50_000) -> None:
        import threading
        from collections import OrderedDict

        self._col = col
        self._ids = ids
        self.dim = dim
        self._cache: OrderedDict[int, np.ndarray[Any, np.dtype[np.float32]]] = OrderedDict()
        self._limit = cache
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self._ids), self.dim)

    def __getitem__(self, key: Any) -> np.ndarray[Any, np.dtype[np.float32]]:
        if isinstance(key, int | np.integer):
            row: np.ndarray[Any, np.dtype[np.float32]] = self.rows([int(key)])[0]
            return row
        return self.rows([int(i) for i in key])

    def rows(self, indices: Sequence[int]) -> np.ndarray[Any, np.dtype[np.float32]]:
        """The vectors of sentences ``indices``, as a ``(len(indices), dim)`` float32 matrix."""
        out = np.zeros((len(indices), self.dim), np.float32)
        with self._lock:  # one reader at a time: the cache is shared by the app's workers
            missing = list(dict.fromkeys(i for i in indices if i not in self._cache))
            if missing:
                got = self._col.get(ids=[self._ids[i] for i in missing], include=["embeddings"])
                by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
                for i in missing:
                    if self._ids[i] not in by_id:
                        raise StoreError(f"the vector of sentence {self._ids[i]} is missing from the store")
                    vector = np.asarray(by_id[self._ids[i]], dtype=np.float32)
                    if vector.shape != (self.dim,):
                        raise StoreError(
                            f"the stored vector of sentence {self._ids[i]} has {vector.size} dimensions where the "
                            f"collection's embedding model gives {self.dim}: the store was written by another "
                            "model or damaged; nothing was changed, and re-indexing into a new --collection rebuilds it"
                        )
                    self._cache[i] = vector
            for row, i in enumerate(indices):
                out[row] = self._cache[i]
                self._cache.move_to_end(i)
            while len(self._cache) > self._limit:
                self._cache.popitem(last=False)
        return out


@dataclass
class StoredCorpus:
    """Everything retrieval and answering need in memory: chunks, sentences and sentence vectors, and the
    record of each document."""

    chunks: list[Chunk]
    sentences: list[Sentence]
    sentence_vectors: SentenceVectors
    documents: dict[str, DocumentRecord] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexReport:
    """What indexing one document did."""

    source: str
    chunks: int
    added: int
    removed: int
    unchanged: bool
    #: The path of the file this document replaced, when it came from another file.
    replaced: str | None = None
    #: Whether an earlier ingest of it had been cut off (its chunks stored, its record missing).
    resumed: bool = False


def _progress(total: int, label: str, show: bool) -> Any:
    """A progress bar with rate and time left (tqdm) when ``show`` and there is enough to show."""
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="text", disable=not show or total <= BATCH, leave=False)


def validate_collection_name(name: str) -> str:
    """Return ``name`` if it can name a collection, else raise :class:`InputError` saying what is allowed."""
    if not _NAME.match(name):
        raise InputError(
            f"collection name {name!r} is not allowed: use 3-62 letters, digits, '-' or '_', "
            "starting and ending with a letter or digit"
        )
    return name


def open_client(path: str | Path, url: str = "") -> chromadb.ClientAPI:
    """A Chroma client with telemetry off: of the server at ``url`` when given (``http://host:port``), else
    embedded on the folder ``path`` (created if missing)."""
    import chromadb
    from chromadb.config import Settings

    if url:
        return _http_client(url)
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"store path {folder} is a file, not a folder; choose another --store")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        opened = read_copy(folder) if is_read_only(folder) else folder
        return chromadb.PersistentClient(path=str(opened), settings=Settings(anonymized_telemetry=False))
    except StoreError:
        raise
    except Exception as exc:  # chromadb raises many kinds for a damaged store
        raise StoreError(
            f"the store at {folder} cannot be opened ({type(exc).__name__}: {exc}); nothing was changed: check "
            "that the folder is a Chroma store you can read, or choose another --store"
        ) from exc


def is_read_only(folder: Path) -> bool:
    """Whether the existing store folder ``folder`` cannot be written (a read-only file system or mount, or
    a folder without write permission)."""
    import os

    return folder.is_dir() and not os.access(folder, os.W_OK)


def read_copy(folder: Path) -> Path:
    """A copy of the read-only store ``folder`` in the user's cache, for Chroma, which writes to any store
    it opens. It is made once for each state of the store (the names, sizes and times of its files); older
    copies of the same store are removed. Nothing in ``folder`` is changed."""
    import hashlib
    import os
    import shutil
    import tempfile

    from core.paths import cache_root

    files = sorted(
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and not p.relative_to(folder).parts[0].startswith(("rag-corpus", ".rag-"))
    )
    if not any(name == "chroma.sqlite3" for name, _, _ in files):
        raise StoreError(f"the store at {folder} is read-only and holds no Chroma database; choose another --store")
    home = cache_root() / "read-only" / hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    copy = home / hashlib.sha256(json.dumps(files).encode()).hexdigest()[:16]
    if not copy.is_dir():
        home.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".copy.", dir=home))
        try:
            for name, _, _ in files:
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(folder / name, tmp / name)
            os.rename(tmp, copy)
        except FileExistsError:
            shutil.rmtree(tmp, ignore_errors=True)  # another process made the same copy first
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise StoreError(
                f"the store at {folder} is read-only, and the copy Chroma needs to read it cannot be made in "
                f"{home} ({exc}); set RAG_CACHE to a folder with room, nothing in the store was changed"
            ) from exc
    for old in home.iterdir():
        if old != copy and old.is_dir() and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    return copy


@contextlib.contextmanager
def writing(path: str | Path, url: str = "", waiting: Callable[[str], None] = lambda _: None) -> Iterator[None]:
    """Hold the embedded store at ``path`` for writing: one writer at a time across processes (an advisory
    lock on ``<path>/.rag-write.lock``). A second writer calls ``waiting`` with a message, then waits for the
    first to finish; nothing is lost either way. A Chroma server (``url``) orders writes itself; a folder that
    cannot be written takes no lock (a write fails there with its own error)."""
    import fcntl
    import os

    if url:
        yield
        return
    if is_read_only(Path(path)):
        raise StoreError(
            f"the store at {path} is read-only: it can be queried, not changed; to add documents, index into "
            "a store you can write (--store DIR)"
        )
    lock_path = Path(path) / ".rag-write.lock"
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path, "a+")  # noqa: SIM115 - held for the whole block
    except OSError:
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            waiting(f"waiting for {holder} to finish writing to the store at {path}...")
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"rag (pid {os.getpid()})")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def renew_client(path: str | Path) -> None:
    """Make the next :func:`open_client` of the embedded store at ``path`` start afresh, reading what other
    processes have written since this one opened it (Chroma keeps one system per folder and process, whose
    vector index does not see another process's writes). Clients already open keep the system they have."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(str(Path(path)), None)


def _http_client(url: str) -> chromadb.ClientAPI:
    """A client of the Chroma server at ``url``, checked with a heartbeat."""
    from urllib.parse import urlsplit

    import chromadb
    from chromadb.config import Settings

    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StoreError(f"the Chroma server URL {url!r} is not an http(s)://host:port address")
    ssl = parts.scheme == "https"
    port = parts.port or (443 if ssl else 8000)
    try:
        client = chromadb.HttpClient(
            host=parts.hostname, port=port, ssl=ssl, settings=Settings(anonymized_telemetry=False)
        )
        client.heartbeat()
    except Exception as exc:  # refused, timed out, not a Chroma server
        raise StoreError(
            f"cannot reach the Chroma server at {parts.scheme}://{parts.hostname}:{port} ({type(exc).__name__}: "
            f"{exc}); start it (chroma run --path DIR --port {port}) or check RAG_CHROMA_URL"
        ) from exc
    return client


class Store:
    """A corpus in Chroma: one chunk collection plus its sentence collection, tied to one embedding model."""

    def __init__(self, client: chromadb.ClientAPI, name: str, embeddings: LocalEmbeddings, location: str = "") -> None:
        self.client = client
        self.name = validate_collection_name(name)
        self.embeddings = embeddings
        #: Where the store is: the folder of an embedded store (absolute), or the URL of a Chroma server.
        self.location = location
        self._chunks: Any = None
        self._sentences: Any = None
        self._documents: Any = None

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
        return sorted(n for n in names if not n.endswith(_SIBLINGS))

    def drop(self) -> bool:
        """Delete this collection with its sentences and records; whether it existed."""
        names = {c if isinstance(c, str) else c.name for c in self.client.list_collections()}
        found = self.name in names
        for name in (self.name, *(self.name + s for s in _SIBLINGS)):
            if name in names:
                self.client.delete_collection(name)
        self._chunks = self._sentences = self._documents = None
        return found

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
        if self._documents is None:
            try:
                self._documents = self._open(self.name + _DOCUMENTS, create)
            except StoreError:
                if create:
                    raise
                # a store written before document records: read on, with records derived from the chunks
        return self

    def count(self) -> int:
        """Number of chunks stored."""
        return int(self.open()._chunks.count())

    # -- writing ---------------------------------------------------------------------------------------
    def _sync(
        self,
        col: Any,
        doc: SourceDocument,
        items: Sequence[Chunk | Sentence],
        progress: bool,
        label: str,
        prepare: Callable[[list[Any]], list[Any]] = list,
        existing: set[str] | None = None,
    ) -> tuple[int, int]:
        """Make ``col`` hold exactly ``items`` for ``doc.source``; embed only items not stored yet, after
        ``prepare`` (the language analysis of new sentences: what is stored already keeps its own)."""
        if existing is None:  # the ids ``col`` holds for the document
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
                out["quotable"] = item.quotable
            return out

        if kept:  # same text, maybe moved: refresh offsets without re-embedding or analysing again
            for at in range(0, len(kept), BATCH):
                part = kept[at : at + BATCH]
                stored = col.get(ids=[i.id for i in part], include=["metadatas"])
                old = dict(zip(stored["ids"], stored["metadatas"], strict=True))
                metas = [meta(i) for i in part]
                for i, m in zip(part, metas, strict=True):
                    if "ents" not in m and "ents" in (old.get(i.id) or {}):
                        m["ents"] = old[i.id]["ents"]
                col.update(ids=[i.id for i in part], metadatas=metas)
        # Embed and store in batches: memory stays bounded, and what a killed run stored is kept (the next
        # run embeds only what is missing).
        with _progress(len(new), label, progress) as bar:
            for at in range(0, len(new), BATCH):
                part = prepare(new[at : at + BATCH])
                vectors = self.embeddings.encode([i.text for i in part])
                col.add(
                    ids=[i.id for i in part],
                    documents=[i.text for i in part],
                    embeddings=vectors,
                    metadatas=[meta(i) for i in part],
                )
                bar.update(len(part))
        return len(new), len(stale)

    def index(
        self, doc: SourceDocument, chunks: list[Chunk], sentences: list[Sentence], progress: bool = False
    ) -> IndexReport:
        """Store ``doc``'s chunks and sentences, replacing whatever an earlier version of it left; its record
        is written last."""
        self.open(create=True)
        before = self.record(doc.source)
        if before is not None and before.complete and before.sha256 == doc.sha256:
            if before.path != doc.path or before.wording != doc.wording:  # moved, or its wording edited
                self._write_record(replace(before, path=doc.path, wording=doc.wording))
            return IndexReport(doc.source, len(chunks), 0, 0, unchanged=True)
        resumed = before is None and bool(self._chunks.get(where={"source": doc.source}, include=[], limit=1)["ids"])
        if before is not None:
            self._documents.delete(ids=[doc.source])  # from here until the new record, the document is unfinished
        # The new sentences are analysed in a second thread while the chunks are embedded (onnxruntime
        # releases the GIL, so the two overlap).
        from concurrent.futures import ThreadPoolExecutor

        stored = set(self._sentences.get(where={"source": doc.source}, include=[])["ids"])
        with ThreadPoolExecutor(1) as ahead:
            analysing = ahead.submit(analysis.analysed, [s for s in sentences if s.id not in stored])
            added, removed = self._sync(self._chunks, doc, chunks, progress, f"{doc.source}: chunks")
            done = {s.id: s for s in analysing.result()}
        self._sync(
            self._sentences,
            doc,
            sentences,
            progress,
            f"{doc.source}: sentences",
            lambda part: [done.get(s.id, s) for s in part],
            stored,
        )
        record = DocumentRecord(
            name=doc.source,
            path=doc.path,
            kind=doc.kind,
            chunks=len(chunks),
            sentences=len(sentences),
            sha256=doc.sha256,
            indexed_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            pages=doc.pages,
            chars=len(doc.text),
            title=doc.title,
            wording=doc.wording,
        )
        self._write_record(record)
        replaced = before.path if before is not None and before.path != doc.path else None
        return IndexReport(doc.source, len(chunks), added, removed, unchanged=False, replaced=replaced, resumed=resumed)

    def _write_record(self, record: DocumentRecord) -> None:
        unit = [1.0] + [0.0] * (self.embeddings.dimension - 1)  # records are looked up by name, never by vector
        self._documents.upsert(ids=[record.name], embeddings=[unit], metadatas=[_record_meta(record)], documents=[""])

    def remove(self, source: str) -> bool:
        """Delete document ``source`` (its record first, then its chunks and sentences); whether it was there."""
        self.open()
        there = self.record(source) is not None or bool(
            self._chunks.get(where={"source": source}, include=[], limit=1)["ids"]
        )
        if self._documents is not None:
            self._documents.delete(ids=[source])
        self._chunks.delete(where={"source": source})
        self._sentences.delete(where={"source": source})
        return there

    def record(self, source: str) -> DocumentRecord | None:
        """The record of document ``source``, None when it has none."""
        self.open()
        if self._documents is None:
            return None
        got = self._documents.get(ids=[source], include=["metadatas"])
        return _record(got["metadatas"][0]) if got["ids"] else None

    def documents(self) -> list[DocumentRecord]:
        """Every document of the collection, by name; one whose chunks are stored without a record is listed
        as incomplete."""
        self.open()
        records: dict[str, DocumentRecord] = {}
        if self._documents is not None:
            got = self._documents.get(include=["metadatas"])
            records = {r.name: r for r in map(_record, got["metadatas"])}
        if self._documents is not None and sum(r.chunks for r in records.values()) == self._chunks.count():
            return [records[k] for k in sorted(records)]  # every chunk is accounted for: no need to read them
        counts: dict[str, int] = {}
        paths: dict[str, str] = {}
        for meta in self._chunks.get(include=["metadatas"])["metadatas"]:
            src = str(meta["source"])
            counts[src] = counts.get(src, 0) + 1
            paths.setdefault(src, str(meta.get("path", "")))
        for src, n in counts.items():
            if src not in records:
                records[src] = DocumentRecord(src, paths[src], "text", n, 0, "", "", complete=False)
        return [records[k] for k in sorted(records)]

    # -- reading ---------------------------------------------------------------------------------------
    def records(self) -> dict[str, DocumentRecord]:
        """The record of every document that has one, by name (one small read, whatever the collection's size)."""
        self.open()
        if self._documents is None:
            return {}
        return {r.name: r for r in map(_record, self._documents.get(include=["metadatas"])["metadatas"])}

    def state(self, records: dict[str, DocumentRecord] | None = None) -> str:
        """A digest of the finished documents of the collection (their records), so what is derived from a
        collection can be kept under its state.

        Any change through this code changes it: a document's record is removed first and written last, with
        the time it was indexed, so an ingest in progress leaves the state as it was until it is finished. A
        store written before records is described by its chunk and sentence counts instead."""
        import hashlib

        self.open()
        records = self.records() if records is None else records
        listing: list[Any] = [_record_meta(records[k]) for k in sorted(records)]
        if self._documents is None:
            listing = [self._chunks.count(), self._sentences.count()]
        payload = json.dumps(listing, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:20]

    def sentence_vectors(self, ids: Sequence[str]) -> SentenceVectors:
        """The vectors of the sentences ``ids`` (in that order), read from the store as they are needed."""
        self.open()
        return SentenceVectors(self._sentences, ids, self.embeddings.dimension)

    def load(self) -> StoredCorpus:
        """Read every chunk and sentence of the finished documents (those with a record; every document of a
        store written before records) into memory, ordered by source and offset, page by page; sentence
        vectors are read when an answer needs them (:class:`SentenceVectors`). What an unfinished ingest left
        is never read: it is redone by the next ``rag index``."""
        self.open()
        records = self.records()

        def finished(meta: dict[str, Any]) -> bool:
            return self._documents is None or meta["source"] in records

        chunk_rows: list[tuple[str, str, dict[str, Any]]] = []
        for page in self._pages(self._chunks, ["documents", "metadatas"]):
            rows = zip(page["ids"], page["documents"], page["metadatas"], strict=True)
            chunk_rows += [row for row in rows if finished(row[2])]
        chunks = sorted(
            (Chunk(i, m["source"], int(m["start"]), int(m["end"]), d) for i, d, m in chunk_rows),
            key=lambda c: (c.source, c.start),
        )
        del chunk_rows
        sentences: list[Sentence] = []
        for page in self._pages(self._sentences, ["documents", "metadatas"]):
            for i, d, m in zip(page["ids"], page["documents"], page["metadatas"], strict=True):
                if not finished(m):
                    continue
                sentences.append(
                    Sentence(
                        i,
                        m["source"],
                        int(m["start"]),
                        int(m["end"]),
                        d,
                        int(m.get("paragraph", 0)),
                        _entities(m),
                        bool(m.get("quotable", True)),
                    )
                )
        sentences.sort(key=lambda s: (s.source, s.start))
        vectors = SentenceVectors(self._sentences, [s.id for s in sentences], self.embeddings.dimension)
        return StoredCorpus(chunks, sentences, vectors, records)

    @staticmethod
    def _pages(col: Any, include: list[str], size: int = 5000) -> Any:
        """``col.get`` page by page (Chroma's ``limit``/``offset``)."""
        offset = 0
        while True:
            page = col.get(include=include, limit=size, offset=offset)
            if not page["ids"]:
                return
            yield page
            offset += len(page["ids"])

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

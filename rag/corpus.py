"""The view of a stored collection that retrieval and answering share, built once per collection state.

What a question needs from the whole collection (the BM25 index, the vocabulary with each term's sentence
frequency, the people the texts name, the term groups of named entities, the words a typo is corrected to)
is computed once, when the collection has changed, and saved as a *snapshot*: a folder of NumPy arrays,
UTF-8 blobs and two small JSON files, under the collection's state (:meth:`index.store.Store.state`):

- beside an embedded store: ``<store>/rag-corpus/<collection>/<state>/``;
- for a Chroma server, or a store folder this process cannot write: in the cache folder
  (:func:`core.paths.cache_root`: ``corpus/<digest of the store's location>/<collection>/<state>/``).

``rag index`` writes it when it has changed a collection; any process that finds none for the current state
writes it first. A process memory-maps the snapshot: start-up reads two small JSON files and the BM25
vocabulary whatever the collection's size, and a question reads only the rows of the chunks and sentences it
retrieves (sentence vectors come from Chroma, for those sentences only). Nothing holds a Python object per
chunk or sentence; what is derived from one sentence (its terms, its capitalised terms, its entities) is
computed when asked for and kept in a bounded cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mmap
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

import numpy as np

from core.contract import Turn
from core.paths import cache_root
from index import analysis
from index.chunker import Chunk, Sentence
from index.loader import page_at
from index.store import DocumentRecord, SentenceVectors, Store, StoredCorpus
from rag.bm25 import BM25Index
from rag.condense import known_people
from rag.question import NAME_LABELS, Question, Vocabulary
from rag.sources import SourceTexts
from rag.steering import Readings, steering
from rag.steering import version as steering_version
from rag.text import names, terms, words
from rag.text import stem as stem_word

#: Bumped whenever what a snapshot holds changes: an older snapshot is then rebuilt, never misread.
FORMAT = 2
#: How many of the most mentioned names a snapshot keeps (for example questions drawn from the documents).
TOP_NAMES = 1000
_CAPITALISED = re.compile(r"\b[A-Z][\w’'-]*")
_NAME_RUN = re.compile(r"[A-Z][\w-]+(?:\s+(?:(?:of|for|and|the|on)\s+)*[A-Z][\w-]+)+")
_QUOTABLE, _USABLE, _STEERING = 1, 2, 4
#: Sentences read from the store at once when their vectors are needed to build a snapshot.
_VECTOR_BATCH = 4096

T = TypeVar("T")
#: Embeds texts (a store's ``embeddings.encode``).
Embed = Callable[[list[str]], Any]


# -- files --------------------------------------------------------------------------------------------------
def _array(path: Path) -> np.ndarray[Any, Any]:
    """A saved array, memory-mapped (read whole when it is empty: an empty map is not allowed)."""
    try:
        mapped: np.ndarray[Any, Any] = np.load(path, mmap_mode="r")
    except ValueError:
        mapped = np.load(path)
    return mapped


def _write_blob(folder: Path, name: str, texts: Sequence[str]) -> None:
    """``texts`` as one UTF-8 file with NUL between them, and the byte offset where each starts."""
    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(b) + 1 for b in encoded], out=offsets[1:])
    with open(folder / f"{name}.bin", "wb") as f:
        for b in encoded:
            f.write(b)
            f.write(b"\0")
    np.save(folder / f"{name}.off.npy", offsets)


class _Blob(Sequence[str]):
    """Texts :func:`_write_blob` wrote, memory-mapped: ``blob[i]`` is one text."""

    def __init__(self, folder: Path, name: str) -> None:
        self._offsets = _array(folder / f"{name}.off.npy")
        path = folder / f"{name}.bin"
        self._data: bytes | mmap.mmap = b""
        if path.stat().st_size:
            with open(path, "rb") as f:
                self._data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self._data[int(self._offsets[i]) : int(self._offsets[i + 1]) - 1].decode("utf-8")

    def find(self, pattern: re.Pattern[bytes], limit: int) -> list[int]:
        """The indices of the texts ``pattern`` matches in, in order, at most ``limit`` (a match never spans
        two texts when the pattern cannot match NUL)."""
        found: list[int] = []
        for match in pattern.finditer(self._data):
            found.append(int(np.searchsorted(self._offsets, match.start(), side="right")) - 1)
            if len(found) >= limit:
                break
        return found


class _Rows(Sequence[T], Generic[T]):
    """A sequence whose rows are made when first read, and kept (up to ``limit`` of them)."""

    def __init__(self, n: int, make: Callable[[int], T], limit: int = 50_000) -> None:
        self._n, self._make, self._limit = n, make, limit
        self._cache: dict[int, T] = {}

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> list[T]: ...
    def __getitem__(self, i: int | slice) -> T | list[T]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        i = int(i)
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(i)
        got = self._cache.get(i)
        if got is None:
            if len(self._cache) >= self._limit:
                self._cache.clear()
            got = self._cache[i] = self._make(i)
        return got

    def __iter__(self) -> Iterator[T]:
        return (self[i] for i in range(self._n))


# -- the snapshot -------------------------------------------------------------------------------------------
def snapshot_root(store: Store) -> Path:
    """The folder that holds the snapshots of ``store``'s collection (see the module's docstring)."""
    location = store.location
    if location and "://" not in location:
        beside = Path(location) / "rag-corpus" / store.name
        if os.access(location, os.W_OK) or (beside.exists() and any(beside.iterdir())):
            return beside
    digest = hashlib.sha256((location or f"process-{os.getpid()}").encode()).hexdigest()[:16]
    return cache_root() / "corpus" / digest / store.name


def write_snapshot(stored: StoredCorpus, state: str, folder: Path, embed: Embed) -> None:
    """Compute what :class:`Corpus` reads from ``stored`` and write it to ``folder`` (atomically: into a
    temporary sibling, then renamed; a snapshot another process finished first is kept). ``embed`` embeds
    the decoded forms of encoded sentences (:mod:`rag.steering`)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    known = _known_readings(folder.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        _write(stored, state, tmp, embed, known)
        if folder.exists() and not (folder / "meta.json").exists():  # unfinished (a killed build): set aside
            with contextlib.suppress(OSError):
                os.rename(folder, Path(tempfile.mkdtemp(prefix=".unfinished.", dir=folder.parent)) / "old")
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / "meta.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # Earlier states (a process still reading one keeps its open maps), what was set aside, and what builds
    # killed over an hour ago left; a build in progress elsewhere is left alone.
    for old in folder.parent.iterdir():
        if old.name == folder.name or not old.is_dir():
            continue
        abandoned = old.name.startswith(".unfinished.") or time.time() - old.stat().st_mtime > 3600
        if not old.name.startswith(".") or abandoned:
            shutil.rmtree(old, ignore_errors=True)


def _readings_file() -> str:
    return f"reader-{steering_version()}.npz"


def _known_readings(root: Path) -> dict[bytes, float]:
    """What the detector's reader made of the sentences of the collection's earlier snapshots (by the same
    detector): a new snapshot reads only sentences it has not seen. Unreadable files count as none."""
    known: dict[bytes, float] = {}
    if root.is_dir():
        for old in root.iterdir():
            path = old / _readings_file()
            if old.name.startswith(".") or not (old / "meta.json").exists() or not path.exists():
                continue
            try:
                with np.load(path) as data:
                    keys = [bytes(row) for row in data["keys"]]
                    known.update(zip(keys, data["logits"].tolist(), strict=True))
            except (OSError, ValueError, KeyError):
                continue
    return known


def _steering(stored: StoredCorpus, embed: Embed, readings: Readings) -> list[bool]:
    """Which sentences address the assistant (:func:`rag.steering.steering`), each read in its document:
    their vectors are read from the store whole documents at a time, about a batch at a time."""
    out: list[bool] = []
    sentences = stored.sentences  # ordered by source and offset
    at = 0
    while at < len(sentences):
        end = min(at + _VECTOR_BATCH, len(sentences))
        while end < len(sentences) and sentences[end].source == sentences[end - 1].source:
            end += 1  # never split a document
        part = range(at, end)
        texts = [sentences[i].text for i in part]
        vectors = stored.sentence_vectors.rows(list(part))
        sources, paragraphs = [sentences[i].source for i in part], [sentences[i].paragraph for i in part]
        out += steering(texts, vectors, embed, sources, readings, paragraphs)
        at = end
    return out


def _write(stored: StoredCorpus, state: str, folder: Path, embed: Embed, known: dict[bytes, float]) -> None:
    chunks, sentences = stored.chunks, stored.sentences  # ordered by source and offset
    sources = sorted({c.source for c in chunks} | {s.source for s in sentences} | set(stored.documents))
    number = {name: i for i, name in enumerate(sources)}
    keys = np.arange(len(sources) + 1)

    chunk_source = np.array([number[c.source] for c in chunks], np.int32)
    np.save(folder / "chunk_source.npy", chunk_source)
    np.save(folder / "chunk_start.npy", np.array([c.start for c in chunks], np.int64))
    np.save(folder / "chunk_end.npy", np.array([c.end for c in chunks], np.int64))
    np.save(folder / "source_chunks.npy", np.searchsorted(chunk_source, keys).astype(np.int64))
    _write_blob(folder, "chunk_text", [c.text for c in chunks])
    _write_blob(folder, "chunk_id", [c.id for c in chunks])
    ids = np.array([c.id.encode() for c in chunks], dtype=f"S{max((len(c.id) for c in chunks), default=1)}")
    order = np.argsort(ids, kind="stable")
    np.save(folder / "chunk_id_sorted.npy", ids[order])
    np.save(folder / "chunk_id_order.npy", order.astype(np.int64))
    BM25Index.build(chunks).save(folder / "bm25")

    missing = [i for i, s in enumerate(sentences) if s.entities is None]  # stored before analysis existed
    analysed = dict(zip(missing, analysis.entities([sentences[i].text for i in missing]), strict=True))
    entities = [analysed.get(i, s.entities or ()) for i, s in enumerate(sentences)]
    labels = sorted({label for ents in entities for _, _, label in ents})
    label_number = {label: i for i, label in enumerate(labels)}
    sentence_source = np.array([number[s.source] for s in sentences], np.int32)
    np.save(folder / "sentence_source.npy", sentence_source)
    np.save(folder / "sentence_start.npy", np.array([s.start for s in sentences], np.int64))
    np.save(folder / "sentence_end.npy", np.array([s.end for s in sentences], np.int64))
    np.save(folder / "sentence_paragraph.npy", np.array([s.paragraph for s in sentences], np.int32))
    readings = Readings(known)
    steer = _steering(stored, embed, readings)
    read = np.frombuffer(b"".join(readings.now), np.uint8).reshape(-1, 16)  # "S16" would drop trailing NULs
    np.savez(folder / _readings_file(), keys=read, logits=np.array(list(readings.now.values()), np.float32))
    flags = [
        (_QUOTABLE if s.quotable else 0) | (_USABLE if s.quotable and not t else 0) | (_STEERING if t else 0)
        for s, t in zip(sentences, steer, strict=True)
    ]
    np.save(folder / "sentence_flags.npy", np.array(flags, np.uint8))
    np.save(folder / "source_sentences.npy", np.searchsorted(sentence_source, keys).astype(np.int64))
    _write_blob(folder, "sentence_text", [s.text for s in sentences])
    _write_blob(folder, "sentence_id", [s.id for s in sentences])
    entity_rows = np.array([(a, b, label_number[label]) for ents in entities for a, b, label in ents], np.int64)
    np.save(folder / "entities.npy", entity_rows.reshape(-1, 3))
    entity_offsets = np.zeros(len(sentences) + 1, np.int64)
    np.cumsum([len(ents) for ents in entities], out=entity_offsets[1:])
    np.save(folder / "entity_offsets.npy", entity_offsets)

    frequency: Counter[str] = Counter()
    surface: dict[str, str] = {}
    proper: set[str] = set()
    acronyms: set[str] = set()
    groups: dict[str, list[list[str]]] = {}
    mentioned: Counter[tuple[str, str]] = Counter()
    for s, ents in zip(sentences, entities, strict=True):
        frequency.update(set(terms(s.text)))
        for w in words(s.text):
            surface.setdefault(stem_word(w), w)
        proper.update(names(s.text))
        for run in _NAME_RUN.findall(s.text):  # initials of names ("Bureau of Labor Statistics" -> "bls")
            initials = "".join(w[0] for w in run.split() if w[:1].isupper())
            if len(initials) >= 2:
                acronyms.add(initials.lower())
        for a, b, label in ents:
            if label not in NAME_LABELS:
                continue
            group = sorted(set(terms(s.text[a:b])))
            for term in group:
                if group and group not in groups.setdefault(term, []):
                    groups[term].append(group)
            if s.quotable:
                mentioned[(label, " ".join(s.text[a:b].split()))] += 1
    lexicon = {
        "frequency": dict(frequency),
        "acronyms": sorted(acronyms),
        "people": known_people(s.text for s in sentences),
        "groups": groups,
        "surface": surface,
        "proper": sorted(proper),
        "mentioned": [[label, text, n] for (label, text), n in mentioned.most_common(TOP_NAMES)],
    }
    (folder / "lexicon.json").write_text(json.dumps(lexicon), encoding="utf-8")
    meta = {
        "format": FORMAT,
        "state": state,
        "sources": sources,
        "labels": labels,
        "chunks": len(chunks),
        "sentences": len(sentences),
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")  # last: its presence means complete


def forget(store: Store) -> None:
    """Delete every snapshot of ``store``'s collection (when the collection itself is deleted)."""
    shutil.rmtree(snapshot_root(store), ignore_errors=True)


def current_state(store: Store, records: dict[str, DocumentRecord] | None = None) -> str:
    """The name of the snapshot of ``store``'s collection as it is now: its state, the snapshot format and
    the version of the instruction detector whose flags it holds."""
    return f"v{FORMAT}-{steering_version()}-{store.state(records)}"


def refresh(store: Store) -> Path:
    """The snapshot folder of ``store``'s collection in its current state, written first if there is none."""
    state = current_state(store)
    folder = snapshot_root(store) / state
    if not (folder / "meta.json").exists():
        write_snapshot(store.load(), state, folder, store.embeddings.encode)
    return folder


# -- the corpus ---------------------------------------------------------------------------------------------
class Corpus:
    """Chunks with their BM25 index, sentences with their vectors, and the people the texts name, read from a
    snapshot (:func:`refresh`). ``chunks`` and ``sentences`` are sequences indexed like lists; rows are made
    when read."""

    def __init__(
        self, folder: Path, records: dict[str, DocumentRecord], vectors: Callable[[Sequence[str]], SentenceVectors]
    ) -> None:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"the corpus snapshot in {folder} has format {meta.get('format')}, not {FORMAT}")
        self.folder = folder
        #: The state of the collection this corpus shows (:func:`current_state`).
        self.state: str = meta["state"]
        #: Each document's record (name, type, pages, chunks, when indexed), by name.
        self.records = records
        self.sources: list[str] = list(meta["sources"])
        self._labels: list[str] = list(meta["labels"])
        a = {name: _array(folder / f"{name}.npy") for name in _ARRAYS}
        self._a = a
        self._chunk_text, self._chunk_id = _Blob(folder, "chunk_text"), _Blob(folder, "chunk_id")
        self._sentence_text, self._sentence_id = _Blob(folder, "sentence_text"), _Blob(folder, "sentence_id")
        self.chunks: Sequence[Chunk] = _Rows(int(meta["chunks"]), self._make_chunk)
        self.sentences: Sequence[Sentence] = _Rows(int(meta["sentences"]), self._make_sentence)
        #: Indexed like a matrix (``sentence_vectors[[i, j]]``); read from the store on demand.
        self.sentence_vectors = vectors(self._sentence_id)
        self.bm25 = BM25Index.load(folder / "bm25", self.chunks)
        lexicon = json.loads((folder / "lexicon.json").read_text(encoding="utf-8"))
        self._frequency: dict[str, int] = lexicon["frequency"]
        self.vocabulary: frozenset[str] = frozenset(self._frequency) | frozenset(lexicon["acronyms"])
        self.people: dict[str, str] = lexicon["people"]
        #: Terms of the words the documents capitalise mid-sentence (:func:`rag.text.names`).
        self.proper_names: frozenset[str] = frozenset(lexicon["proper"])
        #: The names the quotable sentences mention, ``(label, text, count)``, most mentioned first.
        self.mentioned: list[tuple[str, str, int]] = [tuple(x) for x in lexicon["mentioned"]]  # type: ignore[misc]
        groups = {t: [frozenset(g) for g in gs] for t, gs in lexicon["groups"].items()}
        self.lexicon = Vocabulary(self.bm25.idf, self.bm25.unseen_idf(), groups, lexicon["surface"])
        self.sentence_terms: Sequence[frozenset[str]] = _Rows(
            len(self.sentences), lambda i: frozenset(terms(self._sentence_text[i]))
        )
        # The terms of each sentence's capitalised words: where a name can be ("Defense" in "the Defense
        # Department", not in "missile defense").
        self.sentence_capitals: Sequence[frozenset[str]] = _Rows(
            len(self.sentences), lambda i: frozenset(terms(" ".join(_CAPITALISED.findall(self._sentence_text[i]))))
        )
        #: Each sentence's named entities as ``(label, terms, text)``, from index time.
        self.sentence_entities: Sequence[list[tuple[str, frozenset[str], str]]] = _Rows(
            len(self.sentences), self._make_entities
        )
        self._source_number = {name: i for i, name in enumerate(self.sources)}

    @classmethod
    def open(cls, store: Store) -> Corpus:
        """The corpus of ``store``'s collection as it is now (its snapshot written first when there is none)."""
        try:
            return cls(refresh(store), store.records(), store.sentence_vectors)
        except FileNotFoundError:  # another process wrote a newer state and removed this one meanwhile
            return cls(refresh(store), store.records(), store.sentence_vectors)

    # -- rows -------------------------------------------------------------------------------------------
    def _make_chunk(self, i: int) -> Chunk:
        a = self._a
        return Chunk(
            self._chunk_id[i],
            self.sources[int(a["chunk_source"][i])],
            int(a["chunk_start"][i]),
            int(a["chunk_end"][i]),
            self._chunk_text[i],
        )

    def _entity_spans(self, i: int) -> tuple[tuple[int, int, str], ...]:
        lo, hi = int(self._a["entity_offsets"][i]), int(self._a["entity_offsets"][i + 1])
        return tuple((int(x), int(y), self._labels[int(n)]) for x, y, n in self._a["entities"][lo:hi])

    def _make_sentence(self, i: int) -> Sentence:
        a = self._a
        return Sentence(
            self._sentence_id[i],
            self.sources[int(a["sentence_source"][i])],
            int(a["sentence_start"][i]),
            int(a["sentence_end"][i]),
            self._sentence_text[i],
            int(a["sentence_paragraph"][i]),
            self._entity_spans(i),
            bool(a["sentence_flags"][i] & _QUOTABLE),
        )

    def _make_entities(self, i: int) -> list[tuple[str, frozenset[str], str]]:
        text = self._sentence_text[i]
        return [(label, frozenset(terms(text[x:y])), text[x:y]) for x, y, label in self._entity_spans(i)]

    def usable(self, i: int) -> bool:
        """Whether sentence ``i`` may be quoted as an answer: not page furniture, not an instruction."""
        return bool(self._a["sentence_flags"][i] & _USABLE)

    def steers(self, i: int) -> bool:
        """Whether sentence ``i`` addresses the assistant (:mod:`rag.steering`): text the document
        contains, never an answer or evidence."""
        return bool(self._a["sentence_flags"][i] & _STEERING)

    # -- questions and words ----------------------------------------------------------------------------
    def analyse(self, question: str, context: str = "") -> Question:
        """``question`` analysed against this corpus (see :mod:`rag.question`)."""
        return self.lexicon.analyse(question, context)

    def sentence_frequency(self, term: str) -> int:
        """In how many sentences ``term`` occurs."""
        return self._frequency.get(term, 0)

    @cached_property
    def pages(self) -> dict[str, tuple[int, ...]]:
        """Where each page of a paged document (PDF) starts, by source name (from the records)."""
        return {name: r.pages for name, r in self.records.items() if r.pages}

    @cached_property
    def wordings(self) -> dict[str, dict[str, Any]]:
        """How each document with a record is presented (:mod:`rag.wording`), by source name."""
        return {name: r.wording for name, r in self.records.items()}

    def page_of(self, source: str, offset: int) -> int | None:
        """The 1-based page of ``source`` that holds character ``offset``; None for a document without pages."""
        return page_at(self.pages.get(source, ()), offset)

    # -- where things are -------------------------------------------------------------------------------
    def _range(self, kind: str, source: str) -> tuple[int, int]:
        """The rows ``[lo, hi)`` of ``source``'s chunks or sentences (rows are ordered by source and offset)."""
        n = self._source_number.get(source)
        if n is None:
            return 0, 0
        bounds = self._a[f"source_{kind}"]
        return int(bounds[n]), int(bounds[n + 1])

    def sentences_of(self, source: str) -> list[Sentence]:
        """The sentences of ``source`` in order."""
        lo, hi = self._range("sentences", source)
        return [self.sentences[i] for i in range(lo, hi)]

    def sentences_in(self, source: str, start: int, end: int) -> list[int]:
        """Indices of the sentences lying inside ``[start, end)`` of ``source``."""
        lo, hi = self._range("sentences", source)
        starts = self._a["sentence_start"][lo:hi]
        first = lo + int(np.searchsorted(starts, start, side="left"))
        last = lo + int(np.searchsorted(starts, end, side="left"))
        ends = self._a["sentence_end"]
        return [i for i in range(first, last) if int(ends[i]) <= end]

    def sentence_at(self, source: str, offset: int) -> int | None:
        """The index of the sentence of ``source`` that holds character ``offset``."""
        lo, hi = self._range("sentences", source)
        j = lo + int(np.searchsorted(self._a["sentence_start"][lo:hi], offset, side="right")) - 1
        if lo <= j < hi and int(self._a["sentence_start"][j]) <= offset < int(self._a["sentence_end"][j]):
            return j
        return None

    def _chunk_row(self, chunk_id: str) -> int | None:
        ids = self._a["chunk_id_sorted"]
        key = chunk_id.encode()
        j = int(np.searchsorted(ids, key))
        return int(self._a["chunk_id_order"][j]) if j < len(ids) and ids[j] == key else None

    def has_chunk(self, chunk_id: str) -> bool:
        """Whether the corpus holds the chunk ``chunk_id``."""
        return self._chunk_row(chunk_id) is not None

    def chunk(self, chunk_id: str) -> Chunk:
        """The chunk with id ``chunk_id`` (KeyError when there is none)."""
        row = self._chunk_row(chunk_id)
        if row is None:
            raise KeyError(chunk_id)
        return self.chunks[row]

    def chunks_holding(self, source: str, start: int, end: int) -> list[Chunk]:
        """The chunks of ``source`` that hold all of ``[start, end)`` (two where chunks overlap)."""
        lo, hi = self._range("chunks", source)
        # Chunks follow each other: their starts and their ends both increase.
        upto = lo + int(np.searchsorted(self._a["chunk_start"][lo:hi], start, side="right"))
        first = lo + int(np.searchsorted(self._a["chunk_end"][lo:hi], end, side="left"))
        return [self.chunks[i] for i in range(first, upto)]

    def neighbours(self, i: int) -> list[int]:
        """The sentences just before and after sentence ``i`` in its source (a name is often one sentence
        away from the pronoun that refers to it)."""
        src = self._a["sentence_source"]
        return [j for j in (i - 1, i + 1) if 0 <= j < len(self.sentences) and src[j] == src[i]]

    @cached_property
    def texts(self) -> SourceTexts:
        """Every document's text, rebuilt from its sentences when first asked for (the web app's document
        view needs it, a command-line question does not)."""
        return SourceTexts(self.sources, self.sentences_of)

    def find(self, fragment: str, limit: int = 20) -> list[int]:
        """The sentences that hold ``fragment`` verbatim, any run of white space matching any other."""
        parts = fragment.split()
        if not parts:
            return []
        pattern = re.compile(rb"\s+".join(re.escape(w.encode("utf-8")) for w in parts))
        return self._sentence_text.find(pattern, limit)

    def quoted(self, turns: list[Turn]) -> tuple[int, ...]:
        """The sentences that the answers of ``turns`` quoted: read from their citations when the turns carry
        them, else found verbatim in the documents (a fragment of 40 characters or more of a plain-text
        answer, up to its first 60)."""
        out: dict[int, None] = {}
        for turn in turns:
            if turn.citations:
                for c in turn.citations:
                    out.update(dict.fromkeys(self.sentences_in(c.source, c.start, c.end)))
                continue
            flat = " ".join(_MARKER.sub(" ", turn.answer or "").split())
            for fragment in _FRAGMENT_END.split(flat):
                if len(fragment) >= 40:
                    out.update(dict.fromkeys(self.find(fragment[:60])))
        return tuple(out)


_ARRAYS = (
    "chunk_source",
    "chunk_start",
    "chunk_end",
    "source_chunks",
    "chunk_id_sorted",
    "chunk_id_order",
    "sentence_source",
    "sentence_start",
    "sentence_end",
    "sentence_paragraph",
    "sentence_flags",
    "source_sentences",
    "entities",
    "entity_offsets",
)
_MARKER = re.compile(r"\[\d+\]")
_FRAGMENT_END = re.compile(r"(?<=[.!?”\"])\s+")

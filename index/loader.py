"""Load documents from files and folders as the exact text that citation offsets point into.

Plain text and Markdown are kept byte for byte as decoded (no normalisation, no newline translation), so a
quote can be checked against the file a user opens. HTML, PDF and Word files are read through
:mod:`index.formats`; their loaded text is what offsets point into, and the store keeps it (rebuilt from
its sentences), so the source view shows exactly what was indexed.

A document is named by its path relative to what was indexed: ``rag index docs/`` names
``docs/a/report.txt`` ``a/report.txt``; a file given by itself is named by its file name, or by ``--name``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import DocumentError
from index.formats import SUPPORTED_SUFFIXES, Span, extract, kind_of

MAX_BYTES = 50 * 1024 * 1024
BUNDLED_ARTICLE = Path(__file__).resolve().parent.parent / "data" / "article.txt"

__all__ = ["BUNDLED_ARTICLE", "MAX_BYTES", "SUPPORTED_SUFFIXES", "Skipped", "SourceDocument", "load_document"]


@dataclass(frozen=True)
class SourceDocument:
    """One loaded document: its name in citations, where it came from, its full text and layout."""

    source: str
    path: str
    text: str
    kind: str = "text"
    #: Where each page starts in ``text`` (PDF); empty when the document has no pages.
    pages: tuple[int, ...] = ()
    #: Spans kept in the text but never quoted as an answer (running headers, reference lists).
    furniture: tuple[Span, ...] = field(default=())
    title: str = ""
    #: How to present the document (:func:`sidecar`).
    wording: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def sha256(self) -> str:
        """Content hash, used to skip re-indexing a document that has not changed."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def page_at(self, offset: int) -> int | None:
        """The 1-based page that holds character ``offset``; None when the document has no pages."""
        return page_at(self.pages, offset)


def page_at(pages: Sequence[int], offset: int) -> int | None:
    """The 1-based page of ``offset`` given each page's start (None for a document without pages)."""
    return max(bisect_right(pages, offset), 1) if pages else None


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    path: str
    reason: str


def sidecar(document: Path) -> dict[str, Any]:
    """The words shipped beside ``document`` for presenting it (``<stem>.questions.json``: ``title``,
    ``placeholder``, ``abstain``, ``examples``; see :mod:`rag.wording`); empty when there are none or the file
    cannot be read."""
    try:
        raw = json.loads(document.with_suffix(".questions.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Any] = {k: str(raw[k]) for k in ("title", "placeholder", "abstain") if isinstance(raw.get(k), str)}
    examples = raw.get("examples")
    if isinstance(examples, list):
        out["examples"] = [str(q) for q in examples if isinstance(q, str) and q.strip()][:20]
    return out


def load_document(path: str | Path, name: str | None = None) -> SourceDocument:
    """Read one supported file. Raises :class:`DocumentError` with a reason a user can act on."""
    p = Path(path)
    if not p.exists():
        raise DocumentError(f"{p}: no such file")
    if p.is_dir():
        raise DocumentError(f"{p}: is a folder, not a file (rag index FOLDER indexes the files it holds)")
    if kind_of(p) is None:
        kinds = ", ".join(SUPPORTED_SUFFIXES)
        raise DocumentError(f"{p}: unsupported file type {p.suffix or '(none)'!r}; supported: {kinds}")
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise DocumentError(f"{p}: {size:,} bytes is over the {MAX_BYTES:,}-byte limit for one document")
        data = p.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{p}: cannot be read ({exc.strerror or exc})") from exc
    found = extract(p, data)
    if not found.text.strip():
        raise DocumentError(f"{p}: is empty" if not data.strip() else f"{p}: has no text to index")
    return SourceDocument(
        source=name or p.name,
        path=str(p.resolve()),
        text=found.text,
        kind=found.kind,
        pages=found.pages,
        furniture=found.furniture,
        title=found.title,
        wording=sidecar(p),
    )


def _matches(rel: str, patterns: Sequence[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns)


def files_in(
    paths: Sequence[str | Path], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> tuple[list[tuple[Path, str]], list[Skipped]]:
    """The files ``paths`` name, folders walked recursively (hidden files and folders left out), each with
    its document name, and the files passed over with their reason.

    ``include`` and ``exclude`` are glob patterns matched against a file's path relative to its folder and
    against its name (``*.pdf``, ``drafts/*``); a file in a folder is taken when it matches an include
    pattern (any, when none is given) and no exclude pattern. Files given by name are always taken.
    """
    found: list[tuple[Path, str]] = []
    skipped: list[Skipped] = []
    for given in paths:
        p = Path(given)
        if not p.is_dir():
            found.append((p, p.name))
            continue
        for root, dirs, files in os.walk(p, onerror=lambda e: skipped.append(Skipped(str(e.filename), str(e)))):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for f in sorted(files):
                if f.startswith(".") or f.endswith(".questions.json"):  # hidden, or a document's wording
                    continue
                full = Path(root) / f
                rel = full.relative_to(p).as_posix()
                if exclude and _matches(rel, exclude):
                    continue
                if include and not _matches(rel, include):
                    continue
                if kind_of(full) is None:
                    skipped.append(Skipped(str(full), f"unsupported file type {full.suffix or '(none)'!r}"))
                    continue
                found.append((full, rel))
    return found, skipped


def load_tree(
    paths: Sequence[str | Path],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    name: str | None = None,
) -> tuple[list[SourceDocument], list[Skipped]]:
    """Load every file ``paths`` name (folders recursively): the documents, and the files skipped with their
    reason (unsupported, empty, corrupt, unreadable, or a second file under a name already taken). ``name``
    names the one document when a single file is given."""
    files, skipped = files_in(paths, include, exclude)
    if name is not None and (len(files) != 1 or Path(paths[0]).is_dir()):
        raise DocumentError("--name names one document: give exactly one file with it")
    docs: dict[str, SourceDocument] = {}
    for path, doc_name in files:
        try:
            doc = load_document(path, name or doc_name)
        except DocumentError as exc:
            skipped.append(Skipped(str(path), str(exc).removeprefix(f"{path}: ")))
            continue
        other = docs.get(doc.source)
        if other is not None and other.path != doc.path:
            skipped.append(
                Skipped(str(path), f"another file is already named {doc.source!r} ({other.path}); use --name")
            )
            continue
        docs[doc.source] = doc
    return list(docs.values()), skipped


def load_documents(paths: Sequence[str | Path]) -> list[SourceDocument]:
    """Load several files (folders recursively), raising :class:`DocumentError` on the first that cannot be
    loaded: for callers that must have them all (the benchmark, tests). Files from different folders that
    share a name are named by their paths relative to the folders' common parent."""
    files, skipped = files_in(paths)
    if skipped:
        raise DocumentError(f"{skipped[0].path}: {skipped[0].reason}")
    files = list({p.resolve(): (p, name) for p, name in files}.values())
    counts: dict[str, int] = {}
    for _, name in files:
        counts[name] = counts.get(name, 0) + 1
    if any(n > 1 for n in counts.values()):
        root = Path(os.path.commonpath([str(p.resolve().parent) for p, _ in files]))
        files = [(p, p.resolve().relative_to(root).as_posix() if counts[n] > 1 else n) for p, n in files]
    return [load_document(path, name) for path, name in files]

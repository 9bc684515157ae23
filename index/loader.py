"""Load documents from disk as exact text, rejecting what cannot be read as UTF-8 text.

The text is kept byte-for-byte as decoded (no normalisation, no newline translation) because citation
offsets point into it: ``quote == text[start:end]`` must hold for the text a user can open themselves.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from core.errors import DocumentError

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown")
MAX_BYTES = 50 * 1024 * 1024
BUNDLED_ARTICLE = Path(__file__).resolve().parent.parent / "data" / "article.txt"


@dataclass(frozen=True)
class SourceDocument:
    """One loaded document: its identifier in citations, where it came from, and its full text."""

    source: str
    path: str
    text: str

    @property
    def sha256(self) -> str:
        """Content hash, used to skip re-indexing a file that has not changed."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def _looks_binary(data: bytes) -> bool:
    if b"\x00" in data[:8192]:
        return True
    sample = data[:8192]
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return bool(sample) and control / len(sample) > 0.05


def load_document(path: str | Path) -> SourceDocument:
    """Read one .txt or .md file as UTF-8. Raises :class:`DocumentError` with a reason a user can act on."""
    p = Path(path)
    if not p.exists():
        raise DocumentError(f"{p}: no such file")
    if p.is_dir():
        raise DocumentError(f"{p}: is a folder; give the files inside it, or use a shell glob")
    if p.suffix.lower() not in SUPPORTED_SUFFIXES:
        kinds = ", ".join(SUPPORTED_SUFFIXES)
        raise DocumentError(f"{p}: unsupported file type {p.suffix or '(none)'!r}; supported: {kinds}")
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise DocumentError(f"{p}: {size:,} bytes is over the {MAX_BYTES:,}-byte limit for one document")
        data = p.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{p}: cannot be read ({exc.strerror or exc})") from exc
    if _looks_binary(data):
        raise DocumentError(f"{p}: looks like a binary file, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{p}: is not valid UTF-8 (byte {exc.start}); convert it first, e.g. iconv -t UTF-8"
        ) from exc
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise DocumentError(f"{p}: is empty")
    return SourceDocument(source=p.name, path=str(p.resolve()), text=text)


def load_documents(paths: list[str | Path]) -> list[SourceDocument]:
    """Load several files; two different files may not share a name, since the name is the citation source."""
    docs = [load_document(p) for p in paths]
    seen: dict[str, str] = {}
    for doc in docs:
        other = seen.setdefault(doc.source, doc.path)
        if other != doc.path:
            raise DocumentError(f"two files are both named {doc.source!r} ({other} and {doc.path}); rename one")
    return list({doc.path: doc for doc in docs}.values())

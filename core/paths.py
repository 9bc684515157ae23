"""Where the product keeps what it derives and can always rebuild (exported models, corpus snapshots)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``RAG_CACHE`` when set, else ``rag-article`` in the user's cache folder (``XDG_CACHE_HOME`` or
    ``~/.cache``)."""
    if os.environ.get("RAG_CACHE"):
        return Path(os.environ["RAG_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "rag-article"

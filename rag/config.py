"""Configuration: one frozen dataclass, built once at the entry point from flags and the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from rag.errors import ConfigError


def default_store() -> Path:
    """Where the vector store lives unless ``RAG_STORE`` or ``--store`` says otherwise."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rag-article" / "store"


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything a run can be configured with. Environment names are ``RAG_`` plus the upper-case field."""

    store: Path = field(default_factory=default_store, metadata={"help": "folder of the Chroma store"})
    collection: str = field(default="article", metadata={"help": "name of the corpus in the store"})
    backend: str = field(default="extractive", metadata={"help": "answerer backend"})
    k: int = field(default=5, metadata={"help": "passages retrieved per question"})
    chunk_size: int = field(default=400, metadata={"help": "target chunk length in characters"})
    chunk_overlap: int = field(default=100, metadata={"help": "characters of whole sentences repeated between chunks"})
    embedding_model: str = field(default="all-MiniLM-L6-v2", metadata={"help": "embedding model name or folder"})
    abstain_threshold: float = field(default=0.10, metadata={"help": "minimum answer confidence (extractive)"})

    def __post_init__(self) -> None:
        if self.k < 1 or self.k > 50:
            raise ConfigError(f"k must be between 1 and 50, not {self.k}")
        if self.chunk_size < 50:
            raise ConfigError(f"chunk size must be at least 50 characters, not {self.chunk_size}")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise ConfigError("chunk overlap must be at least 0 and smaller than the chunk size")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``RAG_*`` variables, then ``overrides`` (flags; ``None`` means not given)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"RAG_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _convert(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "store" in values:
            values["store"] = Path(values["store"]).expanduser()
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)


def _convert(name: str, kind: Any, raw: str) -> Any:
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise ConfigError(f"RAG_{name.upper()}={raw!r} is not a valid {kind}") from None
    return raw

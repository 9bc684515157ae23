"""Configuration: one frozen dataclass, built once at the entry point from flags and the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from rag.errors import ConfigError

#: What the citation verifier does with LLM sentences no source supports.
VERIFY_MODES = ("off", "flag", "drop")


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
    llm_base_url: str = field(default="", metadata={"help": "OpenAI-compatible endpoint URL (it ends in /v1)"})
    llm_model: str = field(default="", metadata={"help": "model name for the openai/anthropic backends"})
    llm_api_key: str = field(default="", repr=False, metadata={"help": "API key (optional for local servers)"})
    llm_timeout: float = field(default=30.0, metadata={"help": "seconds to wait for the LLM, retries included"})
    llm_retries: int = field(default=2, metadata={"help": "retries after a failed LLM call"})
    llm_max_tokens: int = field(default=256, metadata={"help": "longest answer the LLM may write, in tokens"})
    llm_temperature: float = field(default=0.0, metadata={"help": "LLM sampling temperature"})
    gguf_path: str = field(default="", metadata={"help": "GGUF model file (llamacpp; default: SmolLM2-135M)"})
    verify_mode: str = field(default="flag", metadata={"help": "unsupported LLM sentences: off, flag or drop"})

    def __post_init__(self) -> None:
        if self.k < 1 or self.k > 50:
            raise ConfigError(f"k must be between 1 and 50, not {self.k}")
        if self.chunk_size < 50:
            raise ConfigError(f"chunk size must be at least 50 characters, not {self.chunk_size}")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise ConfigError("chunk overlap must be at least 0 and smaller than the chunk size")
        if self.verify_mode not in VERIFY_MODES:
            raise ConfigError(f"verify mode must be one of {', '.join(VERIFY_MODES)}, not {self.verify_mode!r}")
        if self.llm_timeout <= 0:
            raise ConfigError(f"the LLM timeout must be a positive number of seconds, not {self.llm_timeout}")
        if not 0 <= self.llm_retries <= 10:
            raise ConfigError(f"LLM retries must be between 0 and 10, not {self.llm_retries}")
        if self.llm_max_tokens < 1:
            raise ConfigError(f"the LLM token limit must be at least 1, not {self.llm_max_tokens}")

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

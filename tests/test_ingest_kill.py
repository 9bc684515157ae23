"""An ingest killed midway (SIGKILL, in a subprocess) leaves the store consistent, and rerunning it gives
exactly what a clean run gives: the same chunks, sentences and document record."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from rag.config import Settings
from rag.ingest import store_for

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
WORDS = (
    "harbour lamp keeper storm winter ferry island council budget roof library children orchard apples "
    "bridge river mill stone market bread wool salt boat net tide cliff gull path field barn well"
).split()


def _prose(path: Path, sentences: int) -> Path:
    rng = random.Random(7)
    lines = []
    for n in range(sentences):
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
        lines.append(f"In year {1800 + n % 200} the {' '.join(words)}.")
        if n % 6 == 5:
            lines.append("\n\n")
    path.write_text(" ".join(lines), encoding="utf-8")
    return path


def _state(settings: Settings) -> dict[str, Any]:
    store = store_for(settings).open()
    chunks = store._chunks.get(include=["metadatas", "documents"])
    sentences = store._sentences.get(include=["metadatas"])
    records = [{k: v for k, v in r.to_dict().items() if k != "indexed_at"} for r in store.documents()]
    return {
        "chunks": sorted(
            (i, m["source"], m["start"], m["end"], d)
            for i, m, d in zip(chunks["ids"], chunks["metadatas"], chunks["documents"], strict=True)
        ),
        "sentences": sorted(
            (i, m["start"], m["end"]) for i, m in zip(sentences["ids"], sentences["metadatas"], strict=True)
        ),
        "records": records,
    }


def _index(store: Path, doc: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, RAG_STORE=str(store), HF_HUB_OFFLINE="1")
    return subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "index", str(doc)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_killed_ingest_is_completed_exactly_by_a_rerun(tmp_path: Path) -> None:
    doc = _prose(tmp_path / "chronicle.txt", 900)
    clean = Settings.from_env({}, store=tmp_path / "clean")
    started = time.monotonic()
    proc = _index(clean.store, doc)
    assert proc.wait(timeout=600) == 0, proc.stderr.read() if proc.stderr else ""
    took = time.monotonic() - started
    expected = _state(clean)
    assert len(expected["chunks"]) > 100 and expected["records"][0]["complete"]

    partial_seen = False
    for n, fraction in enumerate((0.45, 0.65, 0.85)):
        settings = Settings.from_env({}, store=tmp_path / f"killed-{n}")
        proc = _index(settings.store, doc)
        time.sleep(took * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        if proc.returncode == 0:
            continue  # finished before the kill: nothing to show for this point
        if settings.store.exists() and (settings.store / "chroma.sqlite3").exists():
            state = _state(settings)
            if state["chunks"] and state != expected:
                partial_seen = True
                assert not any(r["complete"] for r in state["records"])  # no record without all of it
        rerun = _index(settings.store, doc)
        _, err = rerun.communicate(timeout=600)
        assert rerun.returncode == 0, err
        assert _state(settings) == expected
    assert partial_seen, f"no kill landed midway (a clean ingest took {took:.1f} s)"


def test_a_second_ingest_on_the_same_store_waits_and_loses_nothing(tmp_path: Path) -> None:
    first_doc = _prose(tmp_path / "chronicle.txt", 600)
    second_doc = tmp_path / "notes.md"
    second_doc.write_text("The ferry timetable changes in May. The council approved it on Tuesday.\n", encoding="utf-8")
    clean = Settings.from_env({}, store=tmp_path / "clean")
    for doc in (first_doc, second_doc):
        done = _index(clean.store, doc)
        assert done.wait(timeout=600) == 0
    expected = _state(clean)

    settings = Settings.from_env({}, store=tmp_path / "shared")
    first = _index(settings.store, first_doc)
    lock = settings.store / ".rag-write.lock"
    deadline = time.monotonic() + 120
    while not (lock.exists() and lock.read_text().startswith("rag (pid")):  # the first holds the store
        assert time.monotonic() < deadline and first.poll() is None, "the first ingest never took the store"
        time.sleep(0.05)
    second = _index(settings.store, second_doc)
    _, second_err = second.communicate(timeout=600)
    _, first_err = first.communicate(timeout=600)
    assert first.returncode == 0, first_err
    assert second.returncode == 0, second_err
    assert "waiting for rag (pid" in second_err and "to finish writing to the store" in second_err
    assert "Traceback" not in second_err + first_err
    assert _state(settings) == expected

"""A store on a read-only file system: questions are answered, writing fails with a clear message, nothing
advises deleting it. The tests run as root, who may write anything, so the store is mounted read-only
(a bind mount); where mounting is not allowed they are skipped, saying why."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from index import BUNDLED_ARTICLE
from rag.config import Settings
from rag.ingest import index_with
from tests.servers import run_cli

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture
def read_only_store(fresh_settings: Settings, tmp_path: Path) -> Iterator[Path]:
    """The bundled article indexed into a store, then seen through a read-only mount of it."""
    index_with(fresh_settings, [BUNDLED_ARTICLE])
    shutil.rmtree(Path(fresh_settings.store) / "rag-corpus")  # a reader must manage without writing one
    mounted = tmp_path / "read-only"
    mounted.mkdir()
    steps = [
        ["mount", "--bind", str(fresh_settings.store), str(mounted)],
        ["mount", "-o", "remount,ro,bind", str(mounted)],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode:
            subprocess.run(["umount", str(mounted)], capture_output=True)
            pytest.skip(f"a read-only mount is not allowed here ({done.stderr.strip()})")
    try:
        with pytest.raises(OSError):
            (mounted / "probe").write_text("x")
        yield mounted
    finally:
        subprocess.run(["umount", str(mounted)], check=True)


def rag(*args: str, cache: Path, code: int = 0) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env={"RAG_CACHE": str(cache)}, code=code, cwd=ROOT)


def test_a_read_only_store_is_queried_and_never_called_broken(read_only_store: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    out = rag("ask", "Who is Sean Parnell?", "--json", "--store", str(read_only_store), cache=cache)
    assert '"abstained": false' in out.stdout and "Parnell" in out.stdout
    assert any(cache.rglob("meta.json")), "the snapshot a reader needs goes to the user's cache"
    listing = rag("docs", "list", "--store", str(read_only_store), cache=cache)
    assert "article.txt" in listing.stdout
    refused = rag("index", "--store", str(read_only_store), str(ROOT / "README.md"), cache=cache, code=1)
    message = refused.stderr.lower()
    assert "read-only" in message or "cannot be written" in message or "permission" in message, refused.stderr
    assert "delete" not in message and "rm -r" not in message
    again = rag("ask", "Who is Sean Parnell?", "--store", str(read_only_store), cache=cache)
    assert "Parnell" in again.stdout, "a refused write left the store as it was"

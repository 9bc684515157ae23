"""Indexing against a real Chroma store in a temporary folder, with the real embedding model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import ConfigError, EmbeddingMismatchError, InputError, StoreError
from index.embeddings import LocalEmbeddings, resolve_model_path
from index.store import Store, open_client
from rag.config import Settings
from rag.ingest import index_with, store_for
from tests.conftest import ARTICLE_TEXT


def stored_ids(settings: Settings) -> set[str]:
    store = store_for(settings).open()
    return set(store._chunks.get(include=[])["ids"])


def test_indexing_twice_changes_nothing(fresh_settings: Settings, tmp_path: Path) -> None:
    p = tmp_path / "article.txt"
    p.write_text(ARTICLE_TEXT, encoding="utf-8")
    first = index_with(fresh_settings, [p])[0]
    ids = stored_ids(fresh_settings)
    second = index_with(fresh_settings, [p])[0]
    assert first.added == first.chunks > 10 and not first.unchanged
    assert second.unchanged and second.added == 0
    assert stored_ids(fresh_settings) == ids
    assert store_for(fresh_settings).count() == first.chunks


def test_an_edited_file_leaves_no_stale_chunks(fresh_settings: Settings, tmp_path: Path) -> None:
    p = tmp_path / "notes.md"
    p.write_text("Alpha is first. Beta is second.\nGamma is third.\n" * 20, encoding="utf-8")
    index_with(fresh_settings, [p])
    before = stored_ids(fresh_settings)
    p.write_text("Delta replaced everything. Epsilon too.\n" * 5, encoding="utf-8")
    report = index_with(fresh_settings, [p])[0]
    after = stored_ids(fresh_settings)
    assert report.removed > 0 and not (before & after)
    store = store_for(fresh_settings).load()
    assert all("Alpha" not in c.text for c in store.chunks)
    assert all("Alpha" not in s.text for s in store.sentences)


def test_moved_text_keeps_its_vectors_but_gets_new_offsets(fresh_settings: Settings, tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    p.write_text("First line here.\nSecond line here.\n", encoding="utf-8")
    index_with(fresh_settings, [p])
    p.write_text("A new opening line.\nFirst line here.\nSecond line here.\n", encoding="utf-8")
    report = index_with(fresh_settings, [p])[0]
    text = p.read_text(encoding="utf-8")
    corpus = store_for(fresh_settings).load()
    assert all(text[s.start : s.end] == s.text for s in corpus.sentences)
    assert all(text[c.start : c.end] == c.text for c in corpus.chunks)
    assert report.added >= 1


def test_two_documents_live_side_by_side(fresh_settings: Settings, tmp_path: Path) -> None:
    for name in ("one.txt", "two.txt"):
        (tmp_path / name).write_text(f"This is document {name}. It has two sentences.", encoding="utf-8")
    index_with(fresh_settings, [tmp_path / "one.txt", tmp_path / "two.txt"])
    corpus = store_for(fresh_settings).load()
    assert {c.source for c in corpus.chunks} == {"one.txt", "two.txt"}


def test_another_embedding_model_is_a_clear_error(fresh_settings: Settings) -> None:
    index_with(fresh_settings, [])
    # The same weights under another name stand for "a different model" without downloading one.
    other = LocalEmbeddings(resolve_model_path("all-MiniLM-L6-v2"))
    store = Store(open_client(fresh_settings.store), fresh_settings.collection, other)
    with pytest.raises(EmbeddingMismatchError, match="was built with embedding model 'all-MiniLM-L6-v2'"):
        store.open()


def test_a_corrupt_store_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    (folder / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot be"):
        s = Settings.from_env({}, store=folder)
        index_with(s, [])


def test_a_file_where_the_store_should_be(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(StoreError, match="is a file"):
        open_client(tmp_path / "file")


@pytest.mark.parametrize("name", ["a", "has space", "-lead", "x" * 80, "bad/slash"])
def test_bad_collection_names(fresh_settings: Settings, name: str) -> None:
    with pytest.raises(InputError, match="collection name"):
        store_for(fresh_settings.with_(collection=name))


def test_the_onnx_model_gives_the_vectors_of_the_pytorch_model() -> None:
    texts = ["What deadline did the Defense Secretary set for Anthropic?", "Who is Sean Parnell?", "x", ""]
    texts.append(" ".join(["a long passage"] * 200))  # past the model's 256-token limit: truncated alike
    onnx = LocalEmbeddings(backend="onnx").encode(texts)
    torch = LocalEmbeddings(backend="torch").encode(texts)
    assert onnx.shape == torch.shape == (len(texts), 384)
    assert float(np.abs(onnx - torch).max()) < 1e-4


def test_an_unknown_embedding_backend_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="onnx, torch"):
        Settings.from_env({"RAG_EMBEDDING_BACKEND": "tpu"})


@pytest.mark.slow
def test_answering_imports_no_torch(settings: Settings) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from rag.chain import Assistant; from rag.config import Settings; "
        f"a = Assistant(Settings.from_env(store={str(settings.store)!r})); "
        "print('5:01' in a.ask('What deadline did the Defense Secretary set for Anthropic?').answer, "
        "sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.split() == ["True", "[]"], out.stderr


def test_a_stored_vector_of_the_wrong_dimension_is_named(tmp_path: Path) -> None:
    from index.store import SentenceVectors

    col = open_client(tmp_path / "store").create_collection("odd.sentences", embedding_function=None)
    col.add(ids=["s1", "s2"], embeddings=[[0.5] * 8, [0.25] * 8], documents=["a", "b"])  # not the model's 384
    vectors = SentenceVectors(col, ["s1", "s2"], 384)
    with pytest.raises(StoreError, match="has 8 dimensions where the collection's embedding model gives 384"):
        vectors[[0]]
    assert SentenceVectors(col, ["s1", "s2"], 8)[[0, 1]].shape == (2, 8)

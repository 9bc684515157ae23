"""The corpus snapshot: what questions read from a collection, written once per state and memory-mapped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.chain import Assistant
from rag.config import Settings
from rag.corpus import Corpus, refresh, snapshot_root
from rag.ingest import index_files, store_for
from tests.conftest import ARTICLE_TEXT


def two_documents(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    a = folder / "a.txt"
    a.write_text(ARTICLE_TEXT, encoding="utf-8")
    b = folder / "b.md"
    b.write_text(
        "The Harbour Board met on Tuesday. Its chair, Ines Okafor, proposed a new ferry timetable.\n\n"
        "Ferries will leave every twenty minutes from May. The council of Westmere approved the budget.\n" * 6,
        encoding="utf-8",
    )
    return [a, b]


def test_the_snapshot_holds_exactly_what_the_store_holds(fresh_settings: Settings, tmp_path: Path) -> None:
    index_files(fresh_settings, two_documents(tmp_path / "docs"))
    store = store_for(fresh_settings)
    stored = store.load()
    corpus = Corpus.open(store)
    assert list(corpus.chunks) == stored.chunks
    assert [(s.id, s.source, s.start, s.end, s.text, s.paragraph, s.quotable) for s in corpus.sentences] == [
        (s.id, s.source, s.start, s.end, s.text, s.paragraph, s.quotable) for s in stored.sentences
    ]
    assert [s.entities for s in corpus.sentences] == [s.entities for s in stored.sentences]
    # Lookups agree with a scan of the rows.
    for c in stored.chunks[::3]:
        assert corpus.chunk(c.id) == c
        inside = [
            i for i, s in enumerate(stored.sentences) if s.source == c.source and c.start <= s.start and s.end <= c.end
        ]
        assert corpus.sentences_in(c.source, c.start, c.end) == inside
    with pytest.raises(KeyError):
        corpus.chunk("no-such-chunk")
    for s in stored.sentences[::5]:
        holding = [c for c in stored.chunks if c.source == s.source and c.start <= s.start and s.end <= c.end]
        assert corpus.chunks_holding(s.source, s.start, s.end) == holding and holding
        assert corpus.sentence_at(s.source, s.start) == stored.sentences.index(s)
    assert corpus.sentence_at("b.md", 10**9) is None and corpus.sentences_in("nowhere.txt", 0, 99) == []
    # The texts rebuild exactly, and a fragment is found in the sentence that holds it.
    for name in ("a.txt", "b.md"):
        original = (tmp_path / "docs" / name).read_text(encoding="utf-8")
        text = corpus.texts.text(name)
        assert all(text[s.start : s.end] == original[s.start : s.end] for s in corpus.sentences_of(name))
    target = next(i for i, s in enumerate(stored.sentences) if s.source == "b.md")
    found = corpus.find(" ".join(stored.sentences[target].text.split()[:6]))
    assert target in found and all(stored.sentences[i].source == "b.md" for i in found)
    assert corpus.sentence_frequency("ferri") >= 6 and "ferri" in corpus.vocabulary
    assert corpus.people.get("Okafor") == "Ines Okafor"


def test_a_snapshot_is_written_per_state_and_the_old_one_removed(fresh_settings: Settings, tmp_path: Path) -> None:
    a, b = two_documents(tmp_path / "docs")
    index_files(fresh_settings, [a])
    store = store_for(fresh_settings)
    root = snapshot_root(store)
    assert root.is_relative_to(Path(fresh_settings.store))  # beside the store it describes
    first = [p.name for p in root.iterdir()]
    assert len(first) == 1  # rag index wrote it: the first question does not have to
    assert refresh(store).name == first[0]  # unchanged collection, same snapshot
    index_files(fresh_settings, [a])  # unchanged: nothing rewritten
    assert [p.name for p in root.iterdir()] == first
    index_files(fresh_settings, [b])
    second = [p.name for p in root.iterdir()]
    assert len(second) == 1 and second != first
    assert Assistant(fresh_settings).corpus.sources == ["a.txt", "b.md"]


def test_a_missing_or_unfinished_snapshot_is_rebuilt(fresh_settings: Settings, tmp_path: Path) -> None:
    a, _ = two_documents(tmp_path / "docs")
    index_files(fresh_settings, [a])
    store = store_for(fresh_settings)
    folder = refresh(store)
    (folder / "meta.json").unlink()  # as a build killed before its last file leaves it
    (folder / "chunk_text.bin").write_bytes(b"")
    corpus = Corpus.open(store)
    assert corpus.chunks[0].text == store.load().chunks[0].text


def test_a_server_or_unwritable_store_keeps_its_snapshot_in_the_user_cache(
    fresh_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = store_for(fresh_settings)
    monkeypatch.delenv("RAG_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert snapshot_root(store).is_relative_to(Path(fresh_settings.store))
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # as for a read-only folder
    assert snapshot_root(store).is_relative_to(tmp_path / "cache")
    store.location = "http://127.0.0.1:8000"
    other = snapshot_root(store)
    assert other.is_relative_to(tmp_path / "cache") and other.name == store.name
    store.location = "http://127.0.0.1:8001"
    assert snapshot_root(store) != other  # one cache per server


def test_a_served_collection_follows_changes_made_by_another_process(fresh_settings: Settings, tmp_path: Path) -> None:
    import subprocess
    import sys

    from rag.library import Library

    _, b = two_documents(tmp_path / "docs")
    index_files(fresh_settings, [b])
    library = Library(fresh_settings, check_seconds=0)
    first_state = library.corpus.state
    question = "How often will the ferries leave?"
    before = library.ask(question)
    assert before.citations and "twenty minutes" in before.citations[0].quote
    b.write_text(b.read_text(encoding="utf-8").replace("every twenty minutes", "every forty-five minutes"))
    env = dict(os.environ, RAG_STORE=str(fresh_settings.store), RAG_COLLECTION=fresh_settings.collection)
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "index", str(b)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    after = library.ask(question)  # no restart
    assert after.citations and "forty-five minutes" in after.citations[0].quote
    text = b.read_text(encoding="utf-8")
    assert all(text[c.start : c.end] == c.quote for c in after.citations)  # offsets into the new text
    assert library.corpus.state != first_state


def test_an_unfinished_ingest_is_never_served(fresh_settings: Settings, tmp_path: Path) -> None:
    from index.chunker import chunk_document
    from index.loader import load_document

    a, b = two_documents(tmp_path / "docs")
    index_files(fresh_settings, [a])
    store = store_for(fresh_settings).open()
    state = refresh(store).name
    doc = load_document(b)
    chunks, sentences = chunk_document(doc)
    store._sync(store._chunks, doc, chunks, False, "chunks")  # as an ingest killed before its record
    store._sync(store._sentences, doc, sentences, False, "sentences")
    assert refresh(store).name == state  # the collection's state is unchanged
    assistant = Assistant(fresh_settings)
    assert assistant.corpus.sources == ["a.txt"]
    answer = assistant.ask("How often will the ferries leave?")
    assert all(c.source == "a.txt" for c in answer.citations)
    vector = assistant.embeddings.encode(["Ferries will leave every twenty minutes from May."])[0]
    assert all(d.metadata["source"] == "a.txt" for d in assistant.retriever.retrieve("ferries", vector))

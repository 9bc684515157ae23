from __future__ import annotations

import itertools

import pytest

from index.chunker import chunk_document
from index.loader import SourceDocument
from tests.conftest import ARTICLE_TEXT

pytestmark = pytest.mark.fast


def doc(text: str, name: str = "a.txt") -> SourceDocument:
    return SourceDocument(source=name, path=f"/x/{name}", text=text)


def test_chunks_know_their_offsets_and_hold_whole_sentences() -> None:
    chunks, sentences = chunk_document(doc(ARTICLE_TEXT), size=400, overlap=100)
    assert all(c.text == ARTICLE_TEXT[c.start : c.end] for c in chunks)
    assert all(s.text == ARTICLE_TEXT[s.start : s.end] for s in sentences)
    starts = {s.start for s in sentences}
    ends = {s.end for s in sentences}
    assert all(c.start in starts and c.end in ends for c in chunks)


def test_chunks_cover_the_document_and_respect_the_size() -> None:
    chunks, sentences = chunk_document(doc(ARTICLE_TEXT), size=400, overlap=100)
    longest_sentence = max(s.end - s.start for s in sentences)
    assert all(c.end - c.start <= max(400, longest_sentence) for c in chunks)
    for s in sentences:
        assert any(c.start <= s.start and s.end <= c.end for c in chunks)


def test_consecutive_chunks_overlap_by_whole_sentences_when_asked() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    with_overlap, _ = chunk_document(doc(text), size=200, overlap=60)
    assert any(b.start < a.end for a, b in itertools.pairwise(with_overlap))
    without, _ = chunk_document(doc(text), size=200, overlap=0)
    assert all(b.start >= a.end for a, b in itertools.pairwise(without))


def test_ids_are_stable_and_depend_on_source_and_content() -> None:
    a1, _ = chunk_document(doc(ARTICLE_TEXT))
    a2, _ = chunk_document(doc(ARTICLE_TEXT))
    assert [c.id for c in a1] == [c.id for c in a2]
    other, _ = chunk_document(doc(ARTICLE_TEXT, name="b.txt"))
    assert not {c.id for c in a1} & {c.id for c in other}
    repeated, sentences = chunk_document(doc("The same words, again and again.\n" * 3), size=50, overlap=0)
    assert len({c.id for c in repeated}) == len(repeated) == 3
    assert len({s.id for s in sentences}) == len(sentences) == 3


def test_bad_sizes_are_rejected() -> None:
    with pytest.raises(ValueError, match="at least 50"):
        chunk_document(doc("x."), size=10)
    with pytest.raises(ValueError, match="overlap"):
        chunk_document(doc("x."), size=100, overlap=100)

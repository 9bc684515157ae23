from __future__ import annotations

import itertools

import pytest

from index.sentences import split_sentences
from tests.conftest import ARTICLE_TEXT, COVID_DIR

pytestmark = pytest.mark.fast


def texts(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def test_spans_are_exact_and_trimmed_on_the_article() -> None:
    spans = split_sentences(ARTICLE_TEXT)
    assert len(spans) > 30
    for s in spans:
        piece = ARTICLE_TEXT[s.start : s.end]
        assert piece == piece.strip() and piece
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def test_every_non_blank_character_is_in_some_sentence() -> None:
    covered = set()
    for s in split_sentences(ARTICLE_TEXT):
        covered.update(range(s.start, s.end))
    missing = [i for i, ch in enumerate(ARTICLE_TEXT) if not ch.isspace() and i not in covered]
    assert missing == []


def test_abbreviations_times_and_quotes_do_not_split() -> None:
    text = "Democratic Sen. Mark Kelly of Arizona spoke at 5:01 PM. He said “no.” Then U.S. officials left."
    assert texts(text) == [
        "Democratic Sen. Mark Kelly of Arizona spoke at 5:01 PM.",
        "He said “no.”",
        "Then U.S. officials left.",
    ]


def test_each_line_of_a_one_paragraph_per_line_text_is_a_boundary() -> None:
    text = "Read: A headline without a full stop\nThe body starts here. It goes on."
    assert texts(text) == ["Read: A headline without a full stop", "The body starts here.", "It goes on."]


def test_hard_wrapped_text_joins_lines_within_a_paragraph() -> None:
    text = "This sentence is wrapped\nacross two lines and ends\nhere. A second one\nfollows it\n\nNew paragraph"
    assert texts(text) == [
        "This sentence is wrapped\nacross two lines and ends\nhere.",
        "A second one\nfollows it",
        "New paragraph",
    ]


def test_overlong_runs_are_cut_at_white_space() -> None:
    text = " ".join(["word"] * 400)
    spans = split_sentences(text, max_chars=200)
    assert all(s.end - s.start <= 200 for s in spans)
    assert " ".join(text[s.start : s.end] for s in spans) == text


def test_pdf_extracted_text_gives_bounded_exact_sentences() -> None:
    text = (COVID_DIR / "document.txt").read_text(encoding="utf-8")
    spans = split_sentences(text)
    assert len(spans) > 150
    assert max(s.end - s.start for s in spans) <= 600

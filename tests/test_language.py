"""Language analysis: entities at index time, questions read against the document, the fitted answerer."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest

from index import analysis
from rag.answerers.features import FEATURES
from rag.answerers.fitted import FittedAnswerer
from rag.answerers.sentence_model import MODEL_PATH, load_model
from rag.chain import Assistant
from rag.config import Settings
from rag.question import PERSON, PLACE, QUANTITY, TIME, Vocabulary, expected_labels, is_english
from rag.text import fold, words

ROOT = Path(__file__).resolve().parents[1]


# -- fast: no model ---------------------------------------------------------------------------------------
@pytest.mark.fast
@pytest.mark.parametrize(
    ("question", "labels"),
    [
        ("when was it sent", TIME),
        ("who wrote the post", PERSON),
        ("where was the statement published", PLACE),
        ("how many companies signed", QUANTITY),
        ("which senator spoke first", PERSON),  # WordNet: senator is a person
        ("what year did it start", TIME),  # WordNet: year is a time
        ("which state is she from", PLACE),
        ("what did she say", frozenset()),
        ("why did they refuse", frozenset()),
    ],
)
def test_expected_labels_from_question_words_and_wordnet(question: str, labels: frozenset[str]) -> None:
    assert expected_labels(words(question)) == labels


@pytest.mark.fast
def test_accents_and_case_fold_away() -> None:
    assert fold("Beyoncé SAID") == fold("beyonce said") == "beyonce said"


@pytest.mark.fast
def test_english_words_are_not_typos_and_inflections_are_english() -> None:
    assert is_english("state") and is_english("threatened") and is_english("companies")
    assert not is_english("becuase") and not is_english("hegsith")


@pytest.mark.fast
def test_typos_are_read_against_the_document_and_function_words() -> None:
    vocab = Vocabulary({"hegseth": 3.0, "threaten": 2.0, "deadlin": 2.0}, 5.0, {"hegseth": [frozenset({"hegseth"})]})
    q = vocab.analyse("wat did hegsith threaten becuase of the deadline")
    assert q.tokens[0] == "what" and "because" in q.tokens
    assert q.terms == ("hegseth", "threaten", "deadlin")
    assert q.names == (frozenset({"hegseth"}),)  # found in lower case and misspelt
    assert q.unknown == 0.0
    other = vocab.analyse("which state does hegseth come from")
    assert "state" in other.terms  # an English word is never "corrected" into a document word
    assert other.unknown > 0.0 and other.expected == PLACE


@pytest.mark.fast
def test_shipped_model_matches_the_features_and_was_validated_per_document() -> None:
    raw = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert raw["features"] == list(FEATURES)
    assert len(raw["coef"]) == len(raw["mean"]) == len(raw["scale"]) == len(FEATURES)
    assert 0.0 <= raw["threshold"] <= 1.0
    assert {"article", "sotu", "alice", "grimm", "pooled"} <= raw["validation"].keys()
    assert raw["validation"]["pooled"]["false_abstention"] <= raw["validation"]["max_false_abstention"] + 1e-9
    model = load_model()
    p = model.probabilities(np.tile(model.mean, (3, 1)))
    assert p.shape == (3,) and np.all((p > 0) & (p < 1))


# The names of the bundled article's people, organisations and places, listed from the article itself.
_NAME_LABELS = {"PERSON", "ORG", "GPE", "NORP", "FAC", "LOC", "PRODUCT", "EVENT"}
# LLM providers the product integrates with, whose names the article happens to contain too.
_INTEGRATIONS = {"anthropic", "claude"}
# The hand-ruled answerer that issue 11 replaces (rag/answerers/fitted.py); it leaves with its rules.
_LEGACY = {"rag/answerers/extractive.py"}


def _article_names() -> set[str]:
    text = (ROOT / "data" / "article.txt").read_text(encoding="utf-8")
    names: set[str] = set()
    for s, e, label in analysis.entities([text])[0]:
        if label not in _NAME_LABELS:
            continue
        name = re.sub(r"^(?:the|The)\s+", "", re.sub(r"(’s|'s)$", "", text[s:e])).strip(" .,")
        parts = [p for p in name.split() if "." not in p]  # "U.S." is an abbreviation of English, not a name
        if len(parts) > 1:
            names.add(name)
        names.update(p for p in parts if len(p) >= 3 and p[0].isupper() and not is_english(fold(p)))
    return {n for n in names if fold(n) not in _INTEGRATIONS}


def test_no_string_constant_in_the_product_names_an_entity_of_the_article() -> None:
    names = _article_names()
    assert {"Sean Parnell", "Hegseth"} <= names, "the article's entities were not found"
    files = [*ROOT.glob("core/**/*.py"), *ROOT.glob("index/**/*.py"), *ROOT.glob("rag/**/*.py"), ROOT / "app.py"]
    found: dict[str, set[str]] = {}
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        if rel in _LEGACY:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for name in names:
                    if re.search(rf"\b{re.escape(name)}\b", node.value, re.IGNORECASE):
                        found.setdefault(rel, set()).add(name)
    assert not found, f"product strings name the article's entities (move such wording to data): {found}"


# -- default: the real spaCy model, store and embedding model ---------------------------------------------
def test_entities_are_found_at_index_time_and_stored(assistant: Assistant) -> None:
    corpus = assistant.corpus
    assert all(s.entities is not None for s in corpus.sentences)  # read from the store, not recomputed
    labels = {label for ents in corpus.sentence_entities for label, _, _ in ents}
    assert {"PERSON", "ORG", "DATE"} <= labels
    for s in corpus.sentences:
        for a, b, _ in s.entities or ():
            assert 0 <= a < b <= len(s.text)


def test_a_lower_case_question_keeps_the_document_names(assistant: Assistant) -> None:
    corpus = assistant.corpus
    person = next(
        text for ents in corpus.sentence_entities for label, _, text in ents if label == "PERSON" and " " in text
    )
    q = corpus.analyse(f"what did {person.lower()} say")
    assert q.names and set().union(*q.names) <= set(q.terms)


@pytest.fixture(scope="module")
def fitted(settings: Settings) -> Assistant:
    return Assistant(settings.with_(backend="fitted"))


def test_fitted_answers_keep_the_contract(fitted: Assistant) -> None:
    assert isinstance(fitted.answerer, FittedAnswerer)
    corpus = fitted.corpus
    answered = 0
    for sentence in corpus.sentences[:: max(1, len(corpus.sentences) // 8)]:
        question = "What does the article say about " + " ".join(sentence.text.split()[:8]) + "?"
        answer = fitted.ask(question)
        for c in answer.citations:
            full = corpus.texts.text(c.source)
            assert full[c.start : c.end] == c.quote
            assert f"[{c.id}]" in answer.answer
        answered += not answer.abstained
    assert answered >= 1


def test_fitted_declines_what_the_article_does_not_cover(fitted: Assistant) -> None:
    answer = fitted.ask("What is the boiling point of liquid nitrogen in kelvin?")
    assert answer.abstained and not answer.citations


@pytest.mark.fast
@pytest.mark.parametrize("split", ["dev", "blind"])
def test_every_documents_question_sets_load_and_quote_their_documents(split: str) -> None:
    """Each evaluation document's sets load, have the promised mix, and every evidence passage is verbatim in
    the documents (checked mechanically; nobody reads a blind set)."""
    from eval.bench import check_evidence, load_examples
    from eval.suite import DOCUMENTS, SPLITS
    from index.loader import load_documents

    for doc, sets in SPLITS[split].items():
        texts = {d.source: d.text for d in load_documents([str(p) for p in DOCUMENTS[doc]])}
        examples = load_examples(sets)
        assert check_evidence(examples, texts) == [], doc
        if split == "blind":
            assert len(examples) >= 40 and sum(not e.answerable for e in examples) >= 12, doc

"""The citation verifier on the real article, the real embedding model and real retrieval; and its measured
precision and recall on the labelled set (``eval/datasets/verifier.jsonl``)."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from eval import verifier as bench
from rag.chain import Assistant
from rag.text import names
from rag.verify import Claim, Verdict, Verifier, assemble, is_abstention, numbers, split_claims
from tests.conftest import ARTICLE_TEXT

QUESTION = "What deadline did the Defense Secretary set for Anthropic?"


@pytest.fixture(scope="module")
def verifier(assistant: Assistant) -> Verifier:
    return Verifier(assistant.corpus, assistant.embeddings)


@pytest.fixture(scope="module")
def passages(assistant: Assistant) -> list[Document]:
    return list(assistant.retriever.invoke(QUESTION))


def cite(passages: list[Document], phrase: str) -> int:
    """The 1-based number of the first passage containing ``phrase``."""
    return next(n for n, d in enumerate(passages, start=1) if phrase in d.page_content)


def test_markers_belong_to_the_sentence_they_follow() -> None:
    claims = split_claims("Hegseth set a deadline [1]. It was Friday. [2][3] Amodei refused [Source 4, 5].")
    assert claims == [
        Claim("Hegseth set a deadline.", (1,)),
        Claim("It was Friday.", (2, 3)),
        Claim("Amodei refused.", (4, 5)),
    ]
    assert split_claims("  [1] ") == []


def test_numbers_and_names() -> None:
    assert numbers("a $1,000 fee at 5:01 PM for two days") == {"1000", "5:01", "2"}
    assert names("Amodei rejected the Pentagon’s offer on Thursday") == {"pentagon", "thursday"}
    assert "amodei" in names("Amodei rejected the offer", proper=frozenset({"amodei"}))
    assert is_abstention("The sources do not mention who won.") and not is_abstention("It doesn't say so [1].")


def test_a_faithful_paraphrase_is_supported_by_the_exact_sentence(verifier: Verifier, passages: list[Document]) -> None:
    n = cite(passages, "5:01 PM ET deadline")
    [verdict] = verifier.check(f"Hegseth gave Anthropic until Friday at 5:01 PM ET [{n}].", passages)
    assert verdict.status == "supported"
    sentence = verifier.corpus.sentences[verdict.evidence[0]]
    assert "Friday 5:01 PM ET deadline set by Defense Secretary Pete Hegseth" in sentence.text
    assert ARTICLE_TEXT[sentence.start : sentence.end] == sentence.text


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        ("Hegseth gave Anthropic until Friday at 6:01 PM ET.", "number"),
        ("Amodei gave Anthropic until Friday at 5:01 PM ET.", "name"),
        ("Hegseth gave Anthropic until Monday at 5:01 PM ET.", "name"),
        ("Anthropic did not face a Friday 5:01 PM ET deadline set by Hegseth.", "negation"),
        ("The deadline was set by Microsoft for OpenAI.", ""),
    ],
)
def test_corruptions_are_caught(verifier: Verifier, passages: list[Document], sentence: str, reason: str) -> None:
    n = cite(passages, "5:01 PM ET deadline")
    [verdict] = verifier.check(f"{sentence[:-1]} [{n}].", passages)
    assert verdict.status == "unsupported"
    assert reason in verdict.reason


def test_a_wrong_passage_number_is_corrected_and_an_invention_is_uncited(
    verifier: Verifier, passages: list[Document]
) -> None:
    right = cite(passages, "5:01 PM ET deadline")
    wrong = next(n for n in range(1, len(passages) + 1) if "5:01" not in passages[n - 1].page_content)
    first, second = verifier.check(
        f"Hegseth set a Friday 5:01 PM ET deadline for Anthropic [{wrong}]. The sky over Paris was green.", passages
    )
    assert first.status == "supported" and right
    assert "5:01 PM ET deadline" in verifier.corpus.sentences[first.evidence[0]].text
    assert second.status == "uncited"


def test_an_answer_is_assembled_with_exact_quotes_renumbered_markers_and_flags(
    verifier: Verifier, passages: list[Document]
) -> None:
    n = cite(passages, "5:01 PM ET deadline")
    text = f"The Pentagon invented Claude [2]. Hegseth set a Friday 5:01 PM ET deadline for Anthropic [{n}]."
    verdicts = verifier.check(text, passages)
    assert [v.status for v in verdicts] == ["unsupported", "supported"]
    flagged = assemble(verdicts, verifier.corpus, drop=False)
    dropped = assemble(verdicts, verifier.corpus, drop=True)
    assert flagged is not None and dropped is not None
    assert flagged.answer == "The Pentagon invented Claude. Hegseth set a Friday 5:01 PM ET deadline for Anthropic. [1]"
    assert [s.status for s in flagged.sentences] == ["unsupported", "supported"]
    assert [s.citation_ids for s in flagged.sentences] == [[], [1]]
    assert dropped.answer == "Hegseth set a Friday 5:01 PM ET deadline for Anthropic. [1]"
    for draft in (flagged, dropped):
        assert " ".join(s.text for s in draft.sentences) == draft.answer
        [c] = draft.citations
        assert c.id == 1 and ARTICLE_TEXT[c.start : c.end] == c.quote
    assert assemble([Verdict(Claim("x", ()), "uncited")], verifier.corpus, drop=False) is None


def test_the_verifier_catches_unsupported_sentences_on_the_labelled_set(assistant: Assistant) -> None:
    """The acceptance floor: recall >= 0.9 at precision >= 0.8 at catching unsupported sentences."""
    items = bench.load()
    assert len(items) >= 100 and {i.origin for i in items} == {"smollm2", "reference", "corrupted"}
    results = bench.measure(items, store=str(assistant.settings.store))
    scores = bench.score([(i.label, v.status if v else "uncited") for i, v in results])
    assert scores.recall >= 0.9, bench.report(results)
    assert scores.precision >= 0.8, bench.report(results)


def test_the_stored_corruptions_are_what_the_generator_makes() -> None:
    items = bench.load()
    stored = {(i.id, i.sentence, i.kind) for i in items if i.origin == "corrupted"}
    made = {
        (f"{i.id}-c{n}", text, kind)
        for i in items
        if i.origin != "corrupted" and i.label == "supported"
        for n, (kind, text, _) in enumerate(bench.corrupt(i.sentence))
    }
    assert stored == made and len(stored) >= 100
    assert bench.corrupt("Hegseth set a 5:01 PM deadline.") == [
        ("swap-name", "Parnell set a 5:01 PM deadline.", "Hegseth -> Parnell"),
        ("swap-number", "Hegseth set a 6:01 PM deadline.", "5:01 -> 6:01"),
        ("negation", "Hegseth did not set a 5:01 PM deadline.", "set -> did not set"),
    ]

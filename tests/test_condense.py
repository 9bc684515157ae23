from __future__ import annotations

import pytest

from rag.condense import condense, known_people

pytestmark = pytest.mark.fast

PEOPLE = known_people(
    [
        "Chief spokesman Sean Parnell posted on X.",
        "Democratic Sen. Mark Kelly of Arizona was more direct.",
        "Republican Sen. Thom Tillis called it sophomoric.",
        "Anthropic CEO Dario Amodei on Thursday rejected the offer.",
        "Related: Anthropic Safety Head Abandons Tech for Poetry, Warns of Global Crises",
    ]
)


def test_people_come_from_the_corpus_not_from_headlines() -> None:
    assert PEOPLE["Parnell"] == "Sean Parnell"
    assert PEOPLE["Amodei"] == "Dario Amodei"
    assert "Global Crises" not in PEOPLE and "Anthropic" not in PEOPLE


def test_a_pronoun_becomes_the_person_asked_about() -> None:
    c = condense("What did he post on X?", [["Who is Sean Parnell?", None]], PEOPLE)
    assert c.question == "What did Sean Parnell post on X?"
    assert c.query == c.question and not c.context
    # Whoever else the answer names: "Who is X?" is about X.
    answer = "Chief spokesman Sean Parnell posted on X ... which Hegseth had previously said he would invoke."
    people = {**PEOPLE, "Hegseth": "Pete Hegseth"}
    c = condense("What did he post on X?", [["Who is Sean Parnell?", answer]], people)
    assert c.question == "What did Sean Parnell post on X?"


def test_a_surname_resolves_to_the_full_name() -> None:
    c = condense("Why does he think so?", [["What does Amodei say about weapons?", "He says no."]], PEOPLE)
    assert c.question == "Why does Dario Amodei think so?"


def test_possessives() -> None:
    c = condense("What was his take?", [["Who is Sean Parnell?", "The spokesman."]], PEOPLE)
    assert c.question == "What was Sean Parnell's take?"


def test_an_elliptical_follow_up_swaps_the_person() -> None:
    history = [["What did Thom Tillis say about the Pentagon?", "He called it sophomoric."]]
    assert condense("And Mark Kelly?", history, PEOPLE).question == "What did Mark Kelly say about the Pentagon?"
    assert condense("What about Kelly?", history, PEOPLE).question == "What did Mark Kelly say about the Pentagon?"


def test_unresolved_references_carry_the_previous_question() -> None:
    history = [["What did the Pentagon offer?", "Its best and final offer."]]
    c = condense("When did they send it?", history, PEOPLE)
    assert c.question == "When did they send it?"
    assert c.context == "What did the Pentagon offer?"
    assert c.query == "When did they send it? What did the Pentagon offer?"


def test_chains_of_follow_ups_keep_the_referent() -> None:
    history = [["Who is Sean Parnell?", "A spokesman."], ["What did he post?", "A deadline."]]
    assert condense("Why did he post it?", history, PEOPLE).context == "What did Sean Parnell post?"


def test_standalone_questions_are_untouched() -> None:
    q = "What deadline did the Defense Secretary set for Anthropic?"
    assert condense(q, [["Who is Sean Parnell?", None]], PEOPLE).query == q
    assert condense(q, None, PEOPLE).question == q


def test_that_as_a_pronoun_marks_a_follow_up_but_not_as_a_conjunction() -> None:
    history = [["What did Gregory Allen say?", "He warned about the risk."]]
    assert condense("Where was that reported?", history, PEOPLE).context == "What did Gregory Allen say?"
    assert condense("What did he say about that?", history, PEOPLE).context
    standalone = "Did Amodei say that the models are unreliable?"
    assert condense(standalone, history, PEOPLE).question == standalone
    assert not condense(standalone, history, PEOPLE).context


def test_after_a_who_question_a_pronoun_means_the_person_in_the_answer() -> None:
    history = [["Which Pentagon figure accused Amodei of lying?", "Pentagon official Emil Michael."]]
    people = {**PEOPLE, "Michael": "Emil Michael", "Emil Michael": "Emil Michael"}
    assert condense("Which outlet reported his comments?", history, people).question == (
        "Which outlet reported Emil Michael's comments?"
    )
    # Not after other questions: there the person asked about is still the one meant.
    history = [["What did Amodei say about weapons?", "Mark Kelly disagreed."]]
    assert condense("Why does he think so?", history, people).question == "Why does Dario Amodei think so?"

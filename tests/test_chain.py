"""The chain's handling of bad input, and that heavy things load once."""

from __future__ import annotations

import pytest

from core.errors import ConfigError, InputError, StoreError
from index import embeddings
from rag.chain import Assistant
from rag.config import Settings
from rag.ingest import ensure_collection, store_for


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "empty"), ("   \n\t", "empty"), ("x" * 2001, "limit is 2,000"), (None, "must be text")],
)
def test_bad_questions_get_clear_errors(assistant: Assistant, question: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        assistant.ask(question)  # type: ignore[arg-type]


@pytest.mark.parametrize("history", ["nope", [["only one"]], [[1, 2]], [("q", 3)]])
def test_bad_history_gets_a_clear_error(assistant: Assistant, history: object) -> None:
    with pytest.raises(InputError, match="history"):
        assistant.ask("Who is Sean Parnell?", history)  # type: ignore[arg-type]


def test_odd_characters_and_html_are_just_text(assistant: Assistant) -> None:
    for q in ("<img src=x onerror=alert(1)>", "Who\x00 is\u200b Sean Parnell?? 🤔", "'; DROP TABLE chunks; --"):
        a = assistant.ask(q)
        assert a.question and isinstance(a.answer, str)
    assert assistant.ask("<script>alert(1)</script>").abstained


def test_the_embedding_model_loads_once_per_process(assistant: Assistant) -> None:
    assert assistant.embeddings.model is not None
    loaded = embeddings.load_count
    for q in ("Who is Sean Parnell?", "What did Emil Michael call Amodei?", "How much is the contract worth?"):
        assistant.ask(q)
    Assistant(assistant.settings)
    assert embeddings.load_count == loaded


def test_the_assistant_never_writes_to_the_store(fresh_settings: Settings) -> None:
    with pytest.raises(StoreError, match=r"no collection 'article'.*collections: none.*rag index"):
        Assistant(fresh_settings)
    assert store_for(fresh_settings).collection_names() == []


def test_the_faces_index_the_bundled_article_on_first_use(fresh_settings: Settings) -> None:
    said: list[str] = []
    assert ensure_collection(fresh_settings, said.append)
    assert len(said) == 1 and "bundled article" in said[0]
    a = Assistant(fresh_settings)
    assert len(a.corpus.chunks) > 10
    assert "5:01" in a.ask("When is the deadline?").answer
    assert not ensure_collection(fresh_settings, said.append) and len(said) == 1, "only the first time"


def test_an_unknown_collection_lists_the_ones_there(settings: Settings) -> None:
    with pytest.raises(StoreError, match=r"no collection 'other'.*collections: article"):
        Assistant(settings.with_(collection="other"))


def test_an_unknown_backend_lists_the_valid_ones(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="choose one of: extractive"):
        Assistant(settings.with_(backend="gpt-17"))


def test_settings_come_from_the_environment_then_flags() -> None:
    s = Settings.from_env({"RAG_K": "7", "RAG_COLLECTION": "notes", "RAG_STORE": "/tmp/x"}, k=3)
    assert (s.k, s.collection, str(s.store)) == (3, "notes", "/tmp/x")
    with pytest.raises(ConfigError, match="RAG_K='many' is not a whole number"):
        Settings.from_env({"RAG_K": "many"})
    with pytest.raises(ConfigError, match="k must be between"):
        Settings.from_env({}, k=0)


def test_the_chain_is_a_langchain_runnable(assistant: Assistant) -> None:
    out = assistant.as_runnable().invoke({"question": "Who is Sean Parnell?"})
    assert out["backend"] == "extractive" and "question" in out and "citations" in out


def test_streaming_yields_the_answer_text_then_the_answer(assistant: Assistant) -> None:
    events = list(assistant.stream("What did he post on X?", [["Who is Sean Parnell?", None]]))
    tokens = [e.text for e in events if e.kind == "token"]
    final = events[-1]
    assert final.kind == "answer" and final.answer is not None
    assert len(tokens) > 5 and "".join(tokens) == final.answer.answer
    assert final.answer.to_dict() | {"timings_ms": None} == assistant.ask(
        "What did he post on X?", [["Who is Sean Parnell?", None]]
    ).to_dict() | {"timings_ms": None}


def _count_encodes(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every call into the real sentence-transformers model, with the texts it embedded."""
    calls: list[list[str]] = []
    model = assistant.embeddings.model
    real = model.encode

    def counting(texts: object, *args: object, **kwargs: object) -> object:
        calls.append(list(texts) if isinstance(texts, list) else [str(texts)])
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(model, "encode", counting)
    return calls


@pytest.mark.parametrize(
    ("question", "history"),
    [
        ("Who is Sean Parnell?", None),
        ("Which company makes Grok?", None),  # the answerer's masked probe rides in the same call
        ("What did he post on X?", [["Who is Sean Parnell?", None]]),
        ("Where was that reported?", [["What did NBC News report?", None]]),
    ],
)
def test_each_turn_embeds_once(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch, question: str, history: object
) -> None:
    calls = _count_encodes(assistant, monkeypatch)
    answer = assistant.ask(question, history)
    assert len(calls) == 1, calls
    assert calls[0][0] == (answer.standalone_question or question) or question in calls[0][0]
    calls.clear()
    list(assistant.stream(question, history))
    assert len(calls) == 1, "streaming embeds once too"


def test_a_turn_that_carries_its_state_is_not_worked_out_again(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.chain
    import rag.condense

    first = assistant.ask("Who is Sean Parnell?")
    second = assistant.ask("What did he post on X?", [first.to_dict()])
    assert second.standalone_question and "Parnell" in second.standalone_question
    real = rag.condense.condense
    calls: list[str] = []

    def counting(question: str, *args: object, **kwargs: object) -> object:
        calls.append(question)
        return real(question, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rag.condense, "condense", counting)
    monkeypatch.setattr(rag.chain, "condense", counting)
    # Answer objects carry how each question was understood: only the new question is condensed.
    third = assistant.ask("What else did he say?", [first.to_dict(), second.to_dict()])
    assert calls == ["What else did he say?"]
    # Plain text pairs carry nothing: the earlier follow-up must be condensed again.
    calls.clear()
    pairs = [[first.question, first.answer], [second.question, second.answer]]
    assert assistant.ask("What else did he say?", pairs).standalone_question == third.standalone_question
    assert len(calls) > 1


def test_quotes_of_earlier_turns_come_from_their_citations(
    assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.contract import to_turn

    answer = assistant.ask("What deadline did the Defense Secretary set for Anthropic?").to_dict()
    corpus = assistant.corpus
    by_text = corpus.quoted([to_turn([answer["question"], answer["answer"]])])

    def no_search(fragment: str, limit: int = 20) -> list[int]:
        raise AssertionError("the documents were searched for the earlier answer's words")

    monkeypatch.setattr(corpus, "find", no_search)
    by_citation = corpus.quoted([to_turn(answer)])
    assert by_citation and set(by_citation) == set(by_text)
    assert [corpus.sentences[i].text for i in by_citation] == [c["quote"] for c in answer["citations"]]


@pytest.mark.parametrize(
    "history",
    [
        [{"question": 3, "answer": None}],
        [{"question": "q", "answer": "a", "citations": [{"source": "article.txt", "start": "x", "end": 2}]}],
        [{"question": "q", "answer": "a", "citations": "all of them"}],
        [{"question": "q", "answer": "a", "standalone_question": 7}],
    ],
)
def test_bad_history_objects_get_a_clear_error(assistant: Assistant, history: object) -> None:
    with pytest.raises(InputError, match="history"):
        assistant.ask("What did he say?", history)  # type: ignore[arg-type]

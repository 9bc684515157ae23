"""The chain's handling of bad input, and that heavy things load once."""

from __future__ import annotations

import pytest

from index import embeddings
from rag.chain import Assistant
from rag.config import Settings
from rag.errors import ConfigError, InputError, StoreError


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
    for q in ("Who is Sean Parnell?", "What did Emil Michael call Amodei?", "How much is the contract worth?"):
        assistant.ask(q)
    Assistant(assistant.settings)
    assert embeddings.load_count == 1


def test_an_empty_store_indexes_the_bundled_article(fresh_settings: Settings) -> None:
    a = Assistant(fresh_settings)
    assert len(a.corpus.chunks) > 10
    assert "5:01" in a.ask("When is the deadline?").answer


def test_an_unknown_collection_lists_the_ones_there(settings: Settings) -> None:
    with pytest.raises(StoreError, match=r"no collection 'other'.*collections: article"):
        Assistant(settings.with_(collection="other"))


def test_an_unknown_backend_lists_the_valid_ones(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="choose one of: extractive"):
        Assistant(settings.with_(backend="gpt-17"))


def test_settings_come_from_the_environment_then_flags() -> None:
    s = Settings.from_env({"RAG_K": "7", "RAG_COLLECTION": "notes", "RAG_STORE": "/tmp/x"}, k=3)
    assert (s.k, s.collection, str(s.store)) == (3, "notes", "/tmp/x")
    with pytest.raises(ConfigError, match="RAG_K='many' is not a valid int"):
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

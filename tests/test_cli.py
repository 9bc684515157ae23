"""The rag command line, run as a real subprocess against a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import Settings
from tests.conftest import ARTICLE_TEXT

RAG = [sys.executable, "-m", "rag.cli"]

pytestmark = pytest.mark.slow


def run(*args: str, store: Path | str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RAG_STORE=str(store), HF_HUB_OFFLINE="1")
    proc = subprocess.run([*RAG, *args], capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_ask_json_on_an_empty_store_indexes_and_answers(tmp_path: Path) -> None:
    proc = run("ask", "--json", "What deadline did the Defense Secretary set for Anthropic?", store=tmp_path / "s")
    answer = json.loads(proc.stdout)
    assert "5:01" in answer["answer"] and answer["abstained"] is False
    assert answer["citations"] and all(c["quote"] == ARTICLE_TEXT[c["start"] : c["end"]] for c in answer["citations"])
    assert set(answer) >= {"question", "answer", "abstained", "citations", "retrieved", "backend", "timings_ms"}


def test_ask_text_batch_and_index(settings: Settings, tmp_path: Path) -> None:
    text = run("ask", "Who is Sean Parnell?", store=settings.store).stdout
    assert "[1] article.txt, characters" in text
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(
            json.dumps(q)
            for q in [
                {"id": "a", "question": "Who is Sean Parnell?"},
                {"id": "b", "question": "What did he post on X?", "history": [["Who is Sean Parnell?", None]]},
                {"id": "c", "question": "What is the capital of France?"},
            ]
        ),
        encoding="utf-8",
    )
    out = tmp_path / "a.jsonl"
    run("ask", "--batch", str(questions), "--out", str(out), store=settings.store)
    answers = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [a["id"] for a in answers] == ["a", "b", "c"]
    assert "posted on X" in answers[1]["answer"] and answers[2]["abstained"]
    indexed = run("index", store=settings.store).stdout
    assert "article.txt" in indexed and "unchanged" in indexed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", ""], "error: the question is empty"),
        (["ask", "hi", "--collection", "missing"], "error: no collection 'missing'"),
        (["ask", "hi", "--backend", "nope"], "error: unknown backend 'nope'"),
        (["index", "/definitely/not/here.txt"], "error: /definitely/not/here.txt: no such file"),
        (["ask", "--batch", "/nope.jsonl", "--out", "/tmp/x"], "error: cannot read batch file"),
        (["ask", "hi", "--history", "{broken"], "error: --history is not valid JSON"),
    ],
)
def test_user_errors_are_one_line_without_a_traceback(settings: Settings, args: list[str], message: str) -> None:
    proc = run(*args, store=settings.store, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith(message) and "Traceback" not in proc.stderr


def test_a_binary_file_is_refused(settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "x.txt"
    bad.write_bytes(b"\x00\x01\x02binary")
    proc = run("index", str(bad), "--collection", "scratch", store=settings.store, check=False)
    assert proc.returncode == 1 and "binary" in proc.stderr and "Traceback" not in proc.stderr


def test_chat_answers_follow_ups(settings: Settings) -> None:
    env = dict(os.environ, RAG_STORE=str(settings.store), HF_HUB_OFFLINE="1")
    proc = subprocess.run(
        [*RAG, "chat"],
        input="Who is Sean Parnell?\nWhat did he post on X?\n\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "understood as: What did Sean Parnell post on X?" in proc.stdout

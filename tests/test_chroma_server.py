"""One index shared through a real Chroma server (``chroma run`` on loopback): the CLI indexes, lists, asks
and removes through it, and two app processes answer from it at once, as a team's workers would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.errors import StoreError
from index.store import open_client
from tests.conftest import ARTICLE_TEXT
from tests.documents import write_pdf
from tests.servers import free_port, run_cli, serving

ROOT = Path(__file__).resolve().parents[1]
CHROMA = Path(sys.executable).parent / "chroma"
QUESTION = "What deadline did the Defense Secretary set for Anthropic?"


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``chroma run`` on a free loopback port with a new data folder; its URL."""
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-data")
    command = [str(CHROMA), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with serving(command, url + "/api/v2/heartbeat", timeout=60, name="chroma run"):
        yield url


def rag(url: str, *args: str, code: int = 0, store: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"RAG_CHROMA_URL": url, **({"RAG_STORE": str(store)} if store is not None else {})}
    return run_cli(*args, env=env, code=code, cwd=ROOT)


def test_the_cli_indexes_lists_asks_and_removes_through_the_server(chroma_server: str, tmp_path: Path) -> None:
    # the store folder is never touched: everything lives in the server
    store = tmp_path / "unused-store"
    rag(chroma_server, "index", store=store)
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / "handbook.txt").write_text("New staff get their badges from the front desk on Monday.", "utf-8")
    write_pdf(folder / "minutes.pdf", [["The board met in March."], ["The board approved the new roof."]])
    out = rag(chroma_server, "index", str(folder), "--collection", "team", store=store)
    assert "2 documents indexed into 'team'" in out.stderr
    assert not store.exists()

    answer = json.loads(rag(chroma_server, "ask", "--json", QUESTION, store=store).stdout)
    assert "5:01" in answer["answer"]
    assert all(c["quote"] == ARTICLE_TEXT[c["start"] : c["end"]] for c in answer["citations"])
    roof = json.loads(rag(chroma_server, "ask", "--json", "--collection", "team", "What did the board approve?").stdout)
    assert roof["citations"] and roof["citations"][0]["source"] == "minutes.pdf" and roof["citations"][0]["page"] == 2

    listed = json.loads(rag(chroma_server, "docs", "list", "--json", "--collection", "team").stdout)
    assert [(d["name"], d["type"], d["pages"]) for d in listed] == [
        ("handbook.txt", "text", None),
        ("minutes.pdf", "pdf", 2),
    ]
    names = {c["name"] for c in json.loads(rag(chroma_server, "collections", "list", "--json").stdout)}
    assert names == {"article", "team"}
    rag(chroma_server, "docs", "rm", "handbook.txt", "--collection", "team")
    listed = json.loads(rag(chroma_server, "docs", "list", "--json", "--collection", "team").stdout)
    assert [d["name"] for d in listed] == ["minutes.pdf"]
    rag(chroma_server, "collections", "rm", "team")
    assert {c["name"] for c in json.loads(rag(chroma_server, "collections", "list", "--json").stdout)} == {"article"}


def test_two_app_workers_and_the_cli_share_one_server(chroma_server: str, tmp_path: Path) -> None:
    rag(chroma_server, "index")
    env = dict(os.environ, RAG_CHROMA_URL=chroma_server, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    env["RAG_STORE"] = str(tmp_path / "unused")
    ports = [free_port(), free_port()]
    commands = [[sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(p)] for p in ports]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    with (
        serving(commands[0], urls[0] + "/widget/", timeout=240, env=env, cwd=ROOT, name="app worker 1"),
        serving(commands[1], urls[1] + "/widget/", timeout=240, env=env, cwd=ROOT, name="app worker 2"),
    ):
        answers = [httpx.post(u + "/api/ask", json={"question": QUESTION}, timeout=60).json() for u in urls]
        cli = json.loads(rag(chroma_server, "ask", "--json", QUESTION).stdout)
    assert answers[0]["answer"] == answers[1]["answer"] == cli["answer"] and "5:01" in cli["answer"]
    assert answers[0]["citations"] == answers[1]["citations"] == cli["citations"]
    assert not (tmp_path / "unused").exists()


def test_an_unreachable_server_is_one_clear_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreError, match="cannot reach the Chroma server"):
        open_client(tmp_path, url)
    proc = rag(url, "ask", "hello", code=1)
    assert proc.stderr.startswith("error: cannot reach the Chroma server at ") and len(proc.stderr.splitlines()) == 1

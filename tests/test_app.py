"""The web app: HTML rendering, POST /api/ask, the Gradio API via gradio_client and curl, limits and headers.

The app runs for real: uvicorn on a free loopback port, the session's assistant (real Chroma, real model).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from core.errors import ConfigError
from rag.chain import Assistant
from rag.web.config import WebSettings
from rag.web.render import answer_html, document_html, inert, sources_html
from tests.conftest import ARTICLE_TEXT
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "What deadline did the Defense Secretary set for Anthropic?"


class LiveServer:
    """An app served by uvicorn in a thread on a free loopback port."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def make_app(assistant: Any, **web: Any) -> Any:
    from app import create_app

    return create_app(assistant=assistant, web=WebSettings.from_env({}, **web))


@pytest.fixture(scope="module")
def live(assistant: Assistant) -> Iterator[LiveServer]:
    with LiveServer(make_app(assistant)) as server:
        yield server


def without_timings(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "timings_ms"}


# -- the HTML the chat shows ---------------------------------------------------------------------------


def test_source_texts_rebuild_the_article_exactly(assistant: Assistant) -> None:
    texts = assistant.corpus.texts
    assert texts.names() == ["article.txt"]
    assert texts.text("article.txt") == ARTICLE_TEXT


def test_paragraph_is_the_line_around_the_quote(assistant: Assistant) -> None:
    texts = assistant.corpus.texts
    start = ARTICLE_TEXT.index("Chief spokesman Sean Parnell")
    end = start + len("Chief spokesman Sean Parnell posted on X")
    para = texts.paragraph("article.txt", start, end)
    line_start = ARTICLE_TEXT.rindex("\n", 0, start) + 1
    assert para.start == line_start
    assert para.end == ARTICLE_TEXT.index("\n", end)
    assert para.text == ARTICLE_TEXT[para.start : para.end]
    assert para.text.startswith("The public nature of Amodei’s rejection")


@pytest.mark.parametrize(
    "text",
    [
        "<img src=x onerror=alert(1)>",
        "![tracker](http://example.com/pixel.png)",
        "<script>alert(1)</script> **bold** [link](javascript:alert(1)) `code` $$x$$",
        "<a href='http://evil.example'>click</a>\n\nnext paragraph & more",
    ],
)
def test_inert_text_shows_literally_and_builds_nothing(text: str) -> None:
    out = inert(text)
    assert "<" not in out.replace("<br>", "")
    for active in ("![", "](", "**", "`", "$$", "javascript:", "http://"):
        assert active not in out
    assert html.unescape(out.replace("<br>", "\n")) == text


def _answer(**fields: Any) -> dict[str, Any]:
    quote = "a Friday 5:01 PM ET deadline"
    start = ARTICLE_TEXT.index(quote)
    base = {
        "question": "When?",
        "answer": "By <b>Friday</b> [1], see also [7].",
        "abstained": False,
        "citations": [
            {"id": 1, "source": "article.txt", "start": start, "end": start + len(quote), "quote": quote, "score": 1}
        ],
        "standalone_question": None,
    }
    return {**base, **fields}


def test_answer_markers_link_to_their_source_cards(assistant: Assistant) -> None:
    answer = _answer()
    chat = answer_html(answer, 3)
    assert chat.count('href="#rag-src-3-1"') == 1
    assert "rag-src-3-7" not in chat  # [7] cites nothing: stays text
    assert "&lt;b&gt;Friday&lt;/b&gt;" in chat
    panel = sources_html([_answer(), answer], assistant.corpus.texts)
    assert 'id="rag-src-1-1"' in panel and 'id="rag-src-0-1"' in panel
    marks = re.findall(r'<mark class="rag-quote">(.*?)</mark>', panel)
    assert [html.unescape(m) for m in marks] == [answer["citations"][0]["quote"]] * 2
    context = re.search(r'id="rag-src-1-1".*?<p class="rag-context">(.*?)</p>', panel, re.S)
    assert context and "came hours before" in html.unescape(context.group(1))  # the paragraph around it


def test_sentences_no_source_supports_are_marked_unverified() -> None:
    sentences = [
        {"text": "The deadline was Friday at 5:01 PM. [1]", "status": "supported", "citation_ids": [1], "score": 0.9},
        {"text": "Hegseth <i>smiled</i>.", "status": "unsupported", "citation_ids": [], "score": 0.1},
    ]
    answer = _answer(answer=" ".join(s["text"] for s in sentences), sentences=sentences)
    out = answer_html(answer, 0)
    assert out.count('class="rag-unsupported"') == 1 and "unverified" in out
    assert re.search(r'rag-unsupported[^>]*>Hegseth &lt;i&gt;smiled&lt;/i&gt;&#46;<span class="rag-badge">', out)
    assert out.count('href="#rag-src-0-1"') == 1
    assert 'class="rag-unsupported"' not in answer_html(_answer(sentences=sentences[:1]), 0)


def test_abstentions_look_different_and_cite_nothing() -> None:
    out = answer_html(_answer(answer="The article doesn't say.", abstained=True, citations=[]), 0)
    assert 'class="rag-abstain"' in out and "rag-cite" not in out
    assert "rag-answer" not in out


def test_document_view_highlights_every_cited_span(assistant: Assistant) -> None:
    answer = _answer()
    out = document_html(assistant.corpus.texts, "article.txt", answer)
    marks = re.findall(r'<mark class="rag-quote" id="rag-doc-1"[^>]*>(.*?)</mark>', out)
    assert [html.unescape(m) for m in marks] == [answer["citations"][0]["quote"]]
    assert out.count('href="#rag-doc-1"') == 1  # the legend links to the span
    plain = html.unescape(re.sub(r"<[^>]+>", "", out.replace("<br>", "\n")))
    assert ARTICLE_TEXT in plain


def test_chat_streams_the_answer_then_shows_its_sources(assistant: Assistant) -> None:
    import gradio as gr

    from rag.web.ui import ChatUI

    ui = ChatUI(assistant)
    updates = list(ui.respond(QUESTION, []))
    streaming = [u[1][-1]["content"] for u in updates[:-1]]
    assert len(streaming) > 3 and all("rag-streaming" in c for c in streaming)
    assert len(streaming[-1]) > len(streaming[0])  # the text grows as it streams in
    box, chat, answers, sources, _, document = updates[-1]
    assert box == "" and len(chat) == 2 and answers[0]["question"] == QUESTION
    assert 'href="#rag-src-0-1"' in chat[1]["content"] and 'id="rag-src-0-1"' in sources
    assert 'id="rag-doc-1"' in document
    follow = list(ui.respond("What did he post on X?", [*answers, ui.api_ask("Who is Sean Parnell?")]))[-1]
    assert "Sean Parnell posted on X" in follow[2][-1]["answer"] and len(follow[1]) == 6
    with pytest.raises(gr.Error, match="the question is empty"):
        list(ui.respond("   ", answers))


# -- settings ------------------------------------------------------------------------------------------


def test_web_settings_from_environment_and_flags() -> None:
    web = WebSettings.from_env(
        {"RAG_HOST": "0.0.0.0", "RAG_PORT": "8080", "RAG_EMBED_ORIGINS": "https://a.example, http://b.example:8000/"}
    )
    assert (web.host, web.port) == ("0.0.0.0", 8080)
    assert web.embed_origins == ("https://a.example", "http://b.example:8000")
    assert WebSettings.from_env({"RAG_PORT": "8080"}, port=9000).port == 9000
    assert WebSettings.from_env({}).any_origin


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RAG_PORT": "eighty"}, "RAG_PORT='eighty' is not a whole number"),
        ({"RAG_PORT": "70000"}, "port must be between 1 and 65535"),
        ({"RAG_EMBED_ORIGINS": "example.org"}, "write it like https://example.org"),
        ({"RAG_EMBED_ORIGINS": "*, https://a.example"}, "cannot be combined"),
    ],
)
def test_bad_web_settings_say_what_to_do(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        WebSettings.from_env(env)


@pytest.mark.slow
def test_app_py_rejects_a_bad_port_in_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "app.py", "--port", "0"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == "error: port must be between 1 and 65535, not 0"


@pytest.mark.slow
def test_app_py_says_when_the_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "app.py", "--port", str(port)], cwd=ROOT, capture_output=True, text=True, timeout=120
        )
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port} (Address already in use)")
    assert "Traceback" not in proc.stderr


# -- POST /api/ask -------------------------------------------------------------------------------------


def test_api_ask_returns_the_answer_contract(live: LiveServer) -> None:
    r = httpx.post(live.url + "/api/ask", json={"question": QUESTION, "history": []}, timeout=60)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert {
        "question", "answer", "abstained", "citations", "retrieved", "backend", "timings_ms", "standalone_question"
    } <= set(answer)  # fmt: skip
    assert not answer["abstained"] and "5:01" in answer["answer"]
    for c in answer["citations"]:
        assert c["quote"] == ARTICLE_TEXT[c["start"] : c["end"]]
        assert f"[{c['id']}]" in answer["answer"]


def test_api_follow_up_uses_the_history(live: LiveServer) -> None:
    history = [["Who is Sean Parnell?", None]]
    r = httpx.post(live.url + "/api/ask", json={"question": "What did he post on X?", "history": history}, timeout=60)
    assert r.status_code == 200, r.text
    assert "Sean Parnell posted on X" in r.json()["answer"]
    assert "Sean Parnell" in r.json()["standalone_question"]  # "he" was read from the history
    alone = httpx.post(live.url + "/api/ask", json={"question": "What did he post on X?"}, timeout=60).json()
    assert alone["standalone_question"] is None


def test_api_follow_up_takes_the_answer_objects_back(live: LiveServer) -> None:
    first = httpx.post(live.url + "/api/ask", json={"question": "Who is Sean Parnell?"}, timeout=60).json()
    body = {"question": "What did he post on X?", "history": [first]}
    r = httpx.post(live.url + "/api/ask", json=body, timeout=60)
    assert r.status_code == 200, r.text
    assert "Sean Parnell posted on X" in r.json()["answer"] and "Parnell" in r.json()["standalone_question"]
    bad = {"question": "What did he post on X?", "history": [{**first, "citations": [{"source": 1}]}]}
    r = httpx.post(live.url + "/api/ask", json=bad, timeout=60)
    assert r.status_code == 400 and "citation" in r.json()["error"]


def test_api_wants_post(live: LiveServer) -> None:
    r = httpx.get(live.url + "/api/ask", timeout=30)
    assert r.status_code == 405 and "use POST" in r.json()["error"]
    schema = httpx.get(live.url + "/openapi.json", timeout=30).json()
    body = schema["paths"]["/api/ask"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["question"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"\xff\xfe", 400, "not UTF-8"),
        (b"[1, 2]", 422, "must be a JSON object"),
        (b"{}", 422, 'the field "question" is missing'),
        (b'{"question": "hi", "colour": "red"}', 422, "unknown field(s) 'colour'"),
        (b'{"question": ""}', 400, "the question is empty"),
        (b'{"question": "   "}', 400, "the question is empty"),
        (b'{"question": 42}', 400, "the question must be text"),
        (json.dumps({"question": "x" * 2500}).encode(), 400, "the limit is 2,000"),
        (b'{"question": "hi", "history": "yesterday"}', 400, "history must be a list"),
        (b'{"question": "hi", "history": [["only one"]]}', 400, "[question, answer] pair"),
        (b'{"question": "hi", "history": [[1, 2]]}', 400, "must hold text"),
        (json.dumps({"question": "hi", "history": [["q" * 1000, "a"]] * 300}).encode(), 413, "over 256 KB"),
        (b'{"question": "hi", "history": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", 400, "nested too deeply"),
    ],
)
def test_api_bad_input_gets_a_4xx_with_a_message(live: LiveServer, body: bytes, status: int, message: str) -> None:
    r = httpx.post(live.url + "/api/ask", content=body, headers={"content-type": "application/json"}, timeout=60)
    assert r.status_code == status, r.text
    assert message in r.json()["error"]
    assert "Traceback" not in r.text


# -- the Gradio API and curl give the same object ------------------------------------------------------


def test_gradio_client_and_curl_get_the_same_answer(live: LiveServer) -> None:
    from gradio_client import Client

    client = Client(live.url + "/", verbose=False)
    via_gradio = client.predict(QUESTION, [], api_name="/ask")
    follow_gradio = client.predict("What did he post on X?", [["Who is Sean Parnell?", None]], api_name="/ask")
    curl = shutil.which("curl")
    assert curl, "curl is needed for this test"
    out = subprocess.run(
        [curl, "-sS", "-X", "POST", "-H", "content-type: application/json",
         "-d", json.dumps({"question": QUESTION, "history": []}), live.url + "/api/ask"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    via_curl = json.loads(out.stdout)
    assert isinstance(via_gradio, dict)
    assert without_timings(via_gradio) == without_timings(via_curl)
    assert "Sean Parnell posted on X" in follow_gradio["answer"]


def test_gradio_api_reports_bad_input(live: LiveServer) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(live.url + "/", verbose=False)
    with pytest.raises(AppError, match="the question is empty"):
        client.predict("  ", [], api_name="/ask")


# -- limits, files and headers -------------------------------------------------------------------------


class GatedAssistant:
    """The real assistant, except that answers wait until the test opens the gate."""

    def __init__(self, real: Assistant) -> None:
        self.real = real
        self.corpus = real.corpus
        self.wording = real.wording
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)

    def ask(self, question: str, history: Any = None) -> Any:
        self.started.release()
        assert self.gate.wait(60)
        return self.real.ask(question, history)

    def stream(self, question: str, history: Any = None) -> Any:
        return self.real.stream(question, history)


def test_overload_is_refused_with_a_message(assistant: Assistant) -> None:
    gated = GatedAssistant(assistant)
    app = make_app(gated, workers=1, queue_size=1)
    with LiveServer(app) as server:
        results: list[httpx.Response] = []

        def post() -> None:
            results.append(httpx.post(server.url + "/api/ask", json={"question": QUESTION}, timeout=60))

        first = threading.Thread(target=post)
        first.start()
        assert gated.started.acquire(timeout=30)  # one is being answered
        second = threading.Thread(target=post)
        second.start()
        # The second waits in line: once it holds the last slot, the line is full.
        deadline = time.monotonic() + 30
        while app.state.service.free_slots() > 0:
            assert time.monotonic() < deadline, "the second request never got in line"
            time.sleep(0.01)
        refused = httpx.post(server.url + "/api/ask", json={"question": QUESTION}, timeout=60)
        gated.gate.set()
        first.join(60)
        second.join(60)
    assert refused.status_code == 503
    assert "busy" in refused.json()["error"] and refused.headers["retry-after"] == "2"
    assert sorted(r.status_code for r in results) == [200, 200]


def test_a_full_gradio_queue_refuses_with_a_message(assistant: Assistant) -> None:
    from gradio_client import Client
    from gradio_client.utils import QueueError

    gated = GatedAssistant(assistant)
    app = make_app(gated, workers=1, queue_size=1)
    with LiveServer(app) as server:
        client = Client(server.url + "/", verbose=False)
        running = client.submit(QUESTION, [], api_name="/ask")
        assert gated.started.acquire(timeout=30)
        waiting = client.submit(QUESTION, [], api_name="/ask")
        queue = app.state.blocks["/"]._queue  # Gradio's queue: wait until the second job is in line
        deadline = time.monotonic() + 30
        while not any(q.queue for q in queue.event_queue_per_concurrency_id.values()):
            assert time.monotonic() < deadline, "the second job never got in line"
            time.sleep(0.01)
        refused = client.submit(QUESTION, [], api_name="/ask")
        with pytest.raises(QueueError, match="Queue is full"):
            refused.result(timeout=30)
        gated.gate.set()
        assert "5:01" in running.result(timeout=60)["answer"]
        assert "5:01" in waiting.result(timeout=60)["answer"]


def test_only_the_apps_own_files_are_served(live: LiveServer) -> None:
    for path in (
        "/gradio_api/file=/etc/passwd",
        f"/gradio_api/file={ROOT / 'app.py'}",
        "/gradio_api/file=../../app.py",
        "/examples/../app.py",
        "/examples/%2e%2e/app.py",
        "/widget/gradio_api/file=/etc/hostname",
    ):
        r = httpx.get(live.url + path, timeout=30)
        assert r.status_code in (403, 404), f"{path}: {r.status_code}"
        assert "root:" not in r.text and "create_app" not in r.text
    page = httpx.get(live.url + "/examples/embed.html", timeout=30)
    assert page.status_code == 200 and "gradio-app" in page.text
    assert httpx.get(live.url + "/widget/", timeout=30).status_code == 200
    assert httpx.get(live.url + "/widget", timeout=30, follow_redirects=True).url.path == "/widget/"
    assert httpx.get(live.url + "/gradio.js", timeout=30).text.startswith("import(")


def test_images_load_only_from_the_app(live: LiveServer) -> None:
    policy = httpx.get(live.url + "/widget/", timeout=30).headers["content-security-policy"]
    assert "img-src 'self' data: blob:" in policy
    assert "frame-ancestors" not in policy  # by default any site may embed the widget


def test_embedding_origins_are_configurable(assistant: Assistant) -> None:
    with LiveServer(make_app(assistant, embed_origins=("https://news.example",))) as server:
        page = httpx.get(server.url + "/widget/", timeout=30)
        assert "frame-ancestors 'self' https://news.example" in page.headers["content-security-policy"]
        preflight = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}
        ok = httpx.options(server.url + "/api/ask", headers={"origin": "https://news.example", **preflight})
        assert ok.headers.get("access-control-allow-origin") == "https://news.example"
        other = httpx.options(server.url + "/api/ask", headers={"origin": "https://evil.example", **preflight})
        assert "access-control-allow-origin" not in other.headers


def test_uploads_are_limited_by_size_page_and_origin(assistant: Assistant) -> None:
    def upload(server: LiveServer, prefix: str, size: int, origin: str = "") -> httpx.Response:
        return httpx.post(
            server.url + prefix + "/gradio_api/upload",
            files={"files": ("notes.txt", b"x" * size, "text/plain")},
            headers={"origin": origin} if origin else {},
            timeout=60,
        )

    web = {"max_upload_mb": 1, "embed_origins": ("https://news.example",)}
    with LiveServer(make_app(assistant, **web)) as server:
        assert upload(server, "", 2 * 1024 * 1024).status_code == 413
        assert upload(server, "", 5).status_code == 200
        assert upload(server, "", 5, server.url).status_code == 200  # the app's own page
        assert upload(server, "", 5, "https://news.example").status_code == 200
        evil = upload(server, "", 5, "https://evil.example")
        assert evil.status_code == 403 and "evil.example" in evil.json()["error"]
        widget = upload(server, "/widget", 5)  # the widget has no document panel
        assert widget.status_code == 403 and "no file uploads" in widget.json()["error"]
    with LiveServer(make_app(assistant, uploads=False)) as server:
        assert upload(server, "", 5).status_code == 403


def test_gradio_routes_refuse_a_huge_request_at_once(live: LiveServer) -> None:
    big = b'{"data": ["' + b"x" * (8 * 1024 * 1024) + b'", []], "fn_index": 0, "session_hash": "s"}'
    for prefix in ("", "/widget"):
        started = time.monotonic()
        refused = httpx.post(
            live.url + prefix + "/gradio_api/queue/join", content=big, headers={"content-type": "application/json"}
        )
        assert refused.status_code == 413 and "over" in refused.json()["error"]
        assert time.monotonic() - started < 5

        def chunks() -> Iterator[bytes]:  # no declared length: refused once the bytes pass the limit
            for _ in range(64):
                yield b"x" * (128 * 1024)

        streamed = httpx.post(live.url + prefix + "/gradio_api/queue/join", content=chunks(), timeout=30)
        assert streamed.status_code == 413


def test_a_store_failing_while_serving_is_a_503_with_a_message(fresh_settings: Any) -> None:
    from index import BUNDLED_ARTICLE
    from rag.ingest import index_with, store_for

    index_with(fresh_settings, [BUNDLED_ARTICLE])
    assistant = Assistant(fresh_settings)
    with LiveServer(make_app(assistant)) as server:
        ok = httpx.post(server.url + "/api/ask", json={"question": "Who is Sean Parnell?"}, timeout=60)
        assert ok.status_code == 200
        store = store_for(fresh_settings)
        store.client.delete_collection(fresh_settings.collection + ".sentences")  # damaged under the app
        failed = httpx.post(server.url + "/api/ask", json={"question": "Who is Emil Michael?"}, timeout=60)
        assert failed.status_code == 503, failed.text
        assert "the store could not be read while answering" in failed.json()["error"]
        assert "Traceback" not in failed.text


def test_every_route_says_who_may_frame_it(assistant: Assistant) -> None:
    with LiveServer(make_app(assistant, embed_origins=("https://news.example",), uploads=False)) as server:
        responses = {
            "/": httpx.get(server.url + "/"),
            "/widget/": httpx.get(server.url + "/widget/"),
            "/gradio.js": httpx.get(server.url + "/gradio.js"),
            "/examples/embed.html": httpx.get(server.url + "/examples/embed.html"),
            "GET /api/ask": httpx.get(server.url + "/api/ask"),
            "POST /api/ask": httpx.post(server.url + "/api/ask", json={"question": "Who is Sean Parnell?"}, timeout=60),
            "upload refused": httpx.post(server.url + "/gradio_api/upload", files={"files": ("a.txt", b"a")}),
            "too large": httpx.post(server.url + "/gradio_api/queue/join", content=b"x" * (2 * 1024 * 1024)),
        }
        for route, r in responses.items():
            policy = r.headers.get("content-security-policy", "")
            assert "frame-ancestors 'self' https://news.example" in policy, (route, r.status_code)
            assert r.headers.get("x-content-type-options") == "nosniff", route
        assert [responses[k].status_code for k in ("upload refused", "too large")] == [403, 413]

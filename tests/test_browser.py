"""The chat in a real browser: Debian's headless Chromium, driven by Playwright, against the real app.

The app runs as ``python app.py`` on a free loopback port with an empty store of its own (so it indexes the
bundled article first, as on a fresh machine). ``examples/embed.html`` is served by a second loopback server,
so the widget is embedded cross-origin as on a real host site. Screenshots go to ``tests/artifacts/`` (or
``$RAG_ARTIFACTS``). Without Chromium or Playwright the tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from tests.servers import free_port, serving

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("RAG_ARTIFACTS") or ROOT / "tests" / "artifacts")
XSS = "<img src=x onerror=alert(1)>"
DONE = "[data-testid=bot] .rag-answer:not(.rag-streaming), [data-testid=bot] .rag-abstain"

pytestmark = pytest.mark.slow


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python app.py`` on a free loopback port, with a new empty store."""
    problem = _missing()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {problem}")
        pytest.skip(problem)
    port = free_port()
    env = {
        **os.environ,
        "RAG_STORE": str(tmp_path_factory.mktemp("browser-store")),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)]
    with serving(command, url + "/widget/", timeout=240, env=env, cwd=ROOT, name="the app"):
        yield url


class HostSite:
    """A loopback server for ``examples/`` (another origin than the app) that records every path asked for."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        site = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                site.paths.append(urlparse(self.path).path)

        handler = functools.partial(Handler, directory=str(ROOT / "examples"))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture(scope="module")
def host_site() -> Iterator[HostSite]:
    site = HostSite()
    site.thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture(scope="module")
def browser(app_url: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    print(f"screenshot: {ARTIFACTS / name}")


def ask(scope: Any, question: str) -> Any:
    """Type ``question`` into the chat in ``scope`` (a page, frame or element), wait for the whole answer."""
    before = scope.locator(DONE).count()
    box = scope.locator("#rag-question textarea")
    box.fill(question)
    box.press("Enter")
    deadline = time.monotonic() + 60
    while scope.locator(DONE).count() <= before:
        assert time.monotonic() < deadline, f"no answer to {question!r}"
        time.sleep(0.1)
    return scope.locator("[data-testid=bot]").last


def api_answer(app_url: str, question: str, history: list[list[str | None]] | None = None) -> dict[str, Any]:
    r = httpx.post(app_url + "/api/ask", json={"question": question, "history": history or []}, timeout=60)
    r.raise_for_status()
    result: dict[str, Any] = r.json()
    return result


def open_citation(scope: Any, message: Any, quote: str) -> None:
    """Click the first [n] marker of ``message``; its source card must open with ``quote`` highlighted."""
    marker = message.locator("a.rag-cite").first
    href = marker.get_attribute("href")
    assert href and href.startswith("#rag-src-")
    marker.click()
    card = scope.locator(href)
    card.and_(scope.locator(".rag-active")).wait_for(timeout=5000)
    assert card.get_attribute("open") is not None
    mark = card.locator("mark.rag-quote")
    assert mark.is_visible()
    assert " ".join(mark.inner_text().split()) == " ".join(quote.split())
    colour = mark.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")


def test_embedded_widget_cites_follows_up_and_keeps_text_inert(app_url: str, host_site: HostSite, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{host_site.url}/embed.html?app={app_url}")
    widget = page.frame_locator("#widget-frame")
    widget.locator("#rag-question textarea").wait_for(timeout=60000)

    # A question, its answer with a citation marker, and the cited words highlighted in their paragraph.
    question = "What deadline did the Defense Secretary set for Anthropic?"
    expected = api_answer(app_url, question)
    message = ask(widget, question)
    assert "5:01" in message.inner_text()
    assert message.locator("a.rag-cite").count() == len(expected["citations"]) >= 1
    open_citation(widget, message, expected["citations"][0]["quote"])
    shot(page, "widget-citation.png")

    # A follow-up that only makes sense with the chat history.
    ask(widget, "Who is Sean Parnell?")
    message = ask(widget, "What did he post on X?")
    assert "Sean Parnell posted on X" in message.inner_text()
    assert "What did Sean Parnell post on X?" in message.inner_text()  # how the follow-up was understood
    shot(page, "widget-follow-up.png")

    # Untrusted text stays text: no script runs, no image loads, not even from the host site.
    pixel = f"![tracker]({host_site.url}/pixel.png) <script>alert(2)</script>"
    for text in (XSS, pixel):
        ask(widget, text)
        shown = widget.locator("[data-testid=user] .rag-question").last.inner_text()
        assert shown == text
    time.sleep(1)
    assert widget.locator("img[src='x'], img[src$='pixel.png'], .rag-question img, .rag-question script").count() == 0
    assert dialogs == []
    assert not [u for u in requests if urlparse(u).path.endswith("/x") or "pixel" in u]
    assert "/pixel.png" not in host_site.paths
    shot(page, "widget-xss.png")

    # The same widget as a <gradio-app> web component on the same host page.
    component = page.locator("gradio-app")
    component.locator("#rag-question textarea").wait_for(timeout=60000)
    question = "How much is Anthropic's Pentagon contract worth?"
    expected = api_answer(app_url, question)
    message = ask(component, question)
    assert "$200 million" in message.inner_text()
    open_citation(component, message, expected["citations"][0]["quote"])
    shot(page, "embed-both-ways.png")
    assert dialogs == []
    page.close()


def test_full_window_sources_document_retry_clear_and_sessions(app_url: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    page.goto(app_url + "/")
    page.locator("#rag-question textarea").wait_for(timeout=60000)
    shot(page, "chat-empty.png")

    # An example question for a new user answers at once.
    page.get_by_text("How much is Anthropic's Pentagon contract worth?").first.click()
    page.locator(DONE).first.wait_for(timeout=60000)
    assert "$200 million" in page.locator("[data-testid=bot]").last.inner_text()

    # Bad input: a clear message, and the question stays in the box.
    too_long = "Why? " * 450
    page.locator("#rag-question textarea").fill(too_long)
    page.locator("#rag-question textarea").press("Enter")
    page.get_by_text("the limit is 2,000").first.wait_for(timeout=10000)
    assert page.locator("#rag-question textarea").input_value() == too_long
    page.locator("#rag-question textarea").fill("")

    question = "What did Senator Mark Kelly say?"
    expected = api_answer(app_url, question)
    message = ask(page, question)
    open_citation(page, message, expected["citations"][0]["quote"])

    # The whole document, with the cited span highlighted where it is.
    page.get_by_text("The whole document, with the cited words highlighted").click()
    doc_mark = page.locator(".rag-doc-text mark.rag-quote").first
    doc_mark.wait_for(timeout=5000)
    assert " ".join(doc_mark.inner_text().split()) == " ".join(expected["citations"][0]["quote"].split())
    assert "Gregory Allen" in page.locator(".rag-doc-text").inner_text()  # the rest of the article is there
    page.locator(".rag-legend a.rag-cite").first.click()  # jumps to the cited span
    page.locator(".rag-doc-text mark.rag-quote.rag-active").wait_for(timeout=5000)
    assert doc_mark.is_visible() and doc_mark.evaluate("el => el.classList.contains('rag-active')")
    shot(page, "chat-sources-document.png")

    # An abstention looks different from an answer.
    abstained = ask(page, "What is the capital of France?")
    assert abstained.locator(".rag-abstain").count() == 1 and abstained.locator("a.rag-cite").count() == 0

    # Retry asks the last question again; the transcript does not grow.
    count = page.locator(DONE).count()
    page.evaluate(f"() => document.querySelectorAll({DONE!r}).forEach((el) => el.dataset.before = '1')")
    page.get_by_role("button", name="Retry").last.click()
    # The retried answer is a new element, and nothing is streaming any more: the retry has finished.
    page.wait_for_function(
        f"""() => {{
            const done = document.querySelectorAll({DONE!r});
            return done.length > 0 && !done[done.length - 1].dataset.before
                && document.querySelectorAll('.rag-streaming').length === 0;
        }}""",
        timeout=60000,
    )
    assert page.locator(DONE).count() == count

    # History is per browser session: another visitor starts with an empty chat.
    other = browser.new_context().new_page()
    other.goto(app_url + "/")
    other.locator("#rag-question textarea").wait_for(timeout=60000)
    assert other.locator("[data-testid=bot]").count() == 0
    other.context.close()

    # Clear empties the chat and the sources panel.
    page.get_by_role("button", name="Clear").first.click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=bot]').length === 0"
        " && document.querySelectorAll('.rag-source').length === 0",
        timeout=30000,
    )
    shot(page, "chat-cleared.png")
    context.close()

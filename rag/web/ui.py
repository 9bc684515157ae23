"""The Gradio chat: the full window at ``/`` and the compact widget, both built from one :class:`ChatUI`.

The chat shown is always rebuilt from the session's list of answer objects (a ``gr.State``, so history is
per browser session), which keeps the transcript, the sources panel and the follow-up history in step.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import gradio as gr

from core.contract import Answer
from core.errors import RagError
from index.formats import SUPPORTED_SUFFIXES
from rag.chain import StreamEvent
from rag.corpus import Corpus
from rag.library import Library
from rag.sources import SourceTexts
from rag.web.render import (
    answer_html,
    document_html,
    documents_html,
    inert,
    question_html,
    sources_html,
    streaming_html,
)
from rag.wording import Wording

Answers = list[dict[str, Any]]
Messages = list[dict[str, str]]

# Runs once per page (the sources panel loads it): a click on an [n] marker opens that source card
# (or, in the document view's legend, scrolls to the cited span) and outlines it.
CITE_JS = """
if (!window.__ragCiteLinks) {
  window.__ragCiteLinks = true;
  document.addEventListener('click', (event) => {
    const link = event.composedPath().find(
      (el) => el instanceof Element && el.matches('a[href^="#rag-src-"], a[href^="#rag-doc-"]'));
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const id = link.getAttribute('href').slice(1);
    const root = link.getRootNode();
    const card = (root.getElementById && root.getElementById(id)) || document.getElementById(id);
    if (!card) return;
    for (let el = card; el; el = el.parentElement) { if (el.tagName === 'DETAILS') el.open = true; }
    (card.getRootNode().querySelectorAll('.rag-active') || []).forEach((el) => el.classList.remove('rag-active'));
    card.classList.add('rag-active');
    card.scrollIntoView({block: 'nearest', behavior: 'smooth'});
  }, true);
}
"""


#: How often and after how long (seconds) files sent to Gradio are deleted, whatever became of them.
UPLOAD_LIFETIME = (3600, 3600)


class ChatAssistant(Protocol):
    """What the web app needs from :class:`rag.chain.Assistant`."""

    corpus: Corpus
    wording: Wording

    def ask(self, question: str, history: Any = None) -> Answer:
        """The answer object."""
        ...

    def stream(self, question: str, history: Any = None) -> Iterator[StreamEvent]:
        """Answer text in pieces, then the answer object."""
        ...


def transcript(answers: Sequence[dict[str, Any]]) -> Messages:
    """The chat messages for a list of answer objects."""
    messages: Messages = []
    for turn, answer in enumerate(answers):
        messages.append({"role": "user", "content": question_html(answer["question"])})
        messages.append({"role": "assistant", "content": answer_html(answer, turn)})
    return messages


class ChatUI:
    """Builds the chat Blocks over one assistant and the texts of its documents."""

    def __init__(self, assistant: ChatAssistant, uploads: bool = False, max_upload_mb: int = 20) -> None:
        self.assistant = assistant
        #: People may add and remove documents in the full window (never in the widget): the assistant must
        #: be a :class:`rag.library.Library`, which rebuilds itself over the changed collection.
        self.uploads = uploads and isinstance(assistant, Library)
        self.max_upload_mb = max_upload_mb

    @property
    def texts(self) -> SourceTexts:
        """The documents' texts, as the assistant now holds them (they change when documents are added)."""
        return self.assistant.corpus.texts

    # -- the document panel --------------------------------------------------------------------------
    def _listing(self) -> tuple[str, Any, Any]:
        records = self.assistant.corpus.records
        names = self.texts.names()
        table = documents_html([records[n] for n in sorted(records)])
        return table, gr.update(choices=names, value=[]), gr.update(choices=names, value=names[0] if names else None)

    def add_documents(self, files: Sequence[Any] | None) -> tuple[str, str, Any, Any]:
        """Index uploaded files (type and size checked first) into the collection; (status, table, choices)."""
        assert isinstance(self.assistant, Library)
        chosen: list[tuple[str, str]] = []
        problems: list[str] = []
        for f in files or []:
            path = Path(getattr(f, "name", None) or str(f))
            name = Path(getattr(f, "orig_name", None) or path.name).name
            try:
                size = path.stat().st_size
            except OSError:
                problems.append(f"{name}: the upload was lost; try again")
                continue
            if size > self.max_upload_mb * 1024 * 1024:
                problems.append(f"{name}: {size:,} bytes is over the {self.max_upload_mb} MB limit")
            elif Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                problems.append(f"{name}: unsupported file type; supported: {', '.join(SUPPORTED_SUFFIXES)}")
            else:
                chosen.append((str(path), name))
        try:
            reports, skipped = self.assistant.add(chosen) if chosen else ([], [])
        finally:
            for f in files or []:  # the upload is indexed (or refused): its copy is not kept
                Path(getattr(f, "name", None) or str(f)).unlink(missing_ok=True)
        problems += [f"{Path(s.path).name}: {s.reason}" for s in skipped]
        done = [f"{r.source}: {'unchanged' if r.unchanged else f'{r.chunks} chunks indexed'}" for r in reports]
        status = "; ".join(done + problems) or "Choose files to add."
        return (inert(status), *self._listing())

    def remove_documents(self, names: Sequence[str] | None) -> tuple[str, str, Any, Any]:
        """Remove the chosen documents; (status, table, choices)."""
        assert isinstance(self.assistant, Library)
        try:
            removed = self.assistant.remove(list(names or []))
            status = f"Removed {', '.join(removed)}." if removed else "Choose documents to remove."
        except RagError as exc:
            status = str(exc)
        return (inert(status), *self._listing())

    # -- handlers ------------------------------------------------------------------------------------
    def respond(self, question: str, answers: Answers) -> Iterator[tuple[Any, ...]]:
        """Stream the answer to ``question``; yields (textbox, chat, answers, sources, document)."""
        # The earlier answer objects are the history: each carries its standalone question and citations.
        events = self.assistant.stream(question, answers)
        try:
            first = next(events)
        except RagError as exc:  # bad input: say why; the question stays in the box
            raise gr.Error(str(exc), duration=10, title="Cannot ask that") from None
        chat = [
            *transcript(answers),
            {"role": "user", "content": question_html(question.strip())},
            {"role": "assistant", "content": streaming_html("")},
        ]
        yield "", chat, gr.skip(), gr.skip(), gr.skip(), gr.skip()  # the question shows at once, answer pending
        text = ""
        for event in _chain(first, events):
            if event.answer is None:
                text += event.text
                chat = [*chat[:-1], {"role": "assistant", "content": streaming_html(text)}]
                yield "", chat, gr.skip(), gr.skip(), gr.skip(), gr.skip()
                continue
            answers = [*answers, event.answer.to_dict()]
            yield "", transcript(answers), answers, sources_html(answers, self.texts), *self._document(answers)

    def retry(self, answers: Answers) -> Iterator[tuple[Any, ...]]:
        """Ask the last question again."""
        if not answers:
            return
        yield from self.respond(answers[-1]["question"], answers[:-1])

    def example(self, answers: Answers, selected: gr.SelectData) -> Iterator[tuple[Any, ...]]:
        """Ask the example question that was clicked."""
        value = selected.value
        question = value.get("text", "") if isinstance(value, dict) else str(value)
        yield from self.respond(question, answers)

    def compact_respond(self, question: str, answers: Answers) -> Iterator[tuple[Any, ...]]:
        """:meth:`respond` without the document view (the widget has none)."""
        for out in self.respond(question, answers):
            yield out[:4]

    def compact_retry(self, answers: Answers) -> Iterator[tuple[Any, ...]]:
        """:meth:`retry` without the document view."""
        for out in self.retry(answers):
            yield out[:4]

    def compact_example(self, answers: Answers, selected: gr.SelectData) -> Iterator[tuple[Any, ...]]:
        """:meth:`example` without the document view."""
        for out in self.example(answers, selected):
            yield out[:4]

    def api_ask(self, question: str, history: list[Any] | None = None) -> dict[str, Any]:
        """The answer object for ``question`` (a follow-up to ``history``: ``[[question, answer], ...]`` pairs,
        or the answer objects returned before, which carry what those turns already worked out)."""
        try:
            return self.assistant.ask(question, history).to_dict()
        except RagError as exc:
            raise gr.Error(str(exc)) from None

    def clear(self) -> tuple[Any, ...]:
        """Forget the conversation."""
        return "", [], [], sources_html([], self.texts), *self._document([])

    def _document(self, answers: Answers) -> tuple[Any, Any]:
        latest = answers[-1] if answers else None
        cited = [c["source"] for c in (latest or {}).get("citations", [])]
        names = self.texts.names()
        source = cited[0] if cited else (names[0] if names else "")
        return gr.update(value=source), document_html(self.texts, source, latest, self._pages(source))

    def _pages(self, source: str) -> tuple[int, ...]:
        return self.assistant.corpus.pages.get(source, ())

    def show_document(self, source: str, answers: Answers) -> str:
        """The selected document with the latest answer's citations highlighted."""
        return document_html(self.texts, source, answers[-1] if answers else None, self._pages(source))

    # -- layout --------------------------------------------------------------------------------------
    def build(self, compact: bool = False) -> gr.Blocks:
        """The full chat window, or (``compact``) the widget meant for an iframe or web component."""
        names = self.texts.names()
        words = self.assistant.wording
        title = words.title
        # Gradio deletes what it was sent (uploads) once an hour, when it is over an hour old.
        with gr.Blocks(title=title, fill_height=compact, delete_cache=UPLOAD_LIFETIME) as blocks:
            answers = gr.State([])
            if compact:
                gr.HTML(f'<div class="rag-widget-title">{html.escape(title)}</div>', js_on_load=None)
            else:
                gr.HTML(
                    f'<h1 class="rag-title">{html.escape(title)}</h1><p>Every answer quotes the source; click a '
                    "<b>[n]</b> marker to see the words in their paragraph. When the source does not say, the "
                    "assistant says so.</p>"
                )
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chat = gr.Chatbot(
                        value=[],
                        label="Chat",
                        show_label=False,
                        height=340 if compact else 520,
                        elem_id="rag-chat",
                        elem_classes=["rag-chat"],
                        latex_delimiters=[],
                        feedback_options=None,
                        allow_tags=False,
                        placeholder=f"{words.placeholder.rstrip('…. ')}, or try one of these:"
                        if words.examples
                        else words.placeholder,
                        examples=[{"text": q} for q in words.examples[: 2 if compact else 4]] or None,
                        buttons=[],
                    )
                    with gr.Row():
                        box = gr.Textbox(
                            placeholder=words.placeholder,
                            show_label=False,
                            lines=1,
                            max_lines=4,
                            scale=5,
                            elem_id="rag-question",
                            autofocus=not compact,
                        )
                        send = gr.Button("Ask", variant="primary", scale=1, min_width=60, elem_id="rag-ask")
                if not compact:
                    with gr.Column(scale=2):
                        gr.Markdown("### Sources")
                        sources = gr.HTML(sources_html([], self.texts), js_on_load=CITE_JS, elem_id="rag-sources")
            if compact:
                sources = gr.HTML(
                    sources_html([], self.texts),
                    js_on_load=CITE_JS,
                    elem_id="rag-sources",
                    elem_classes=["rag-widget-sources"],
                )
                outputs = [box, chat, answers, sources]
                respond, retry, example = self.compact_respond, self.compact_retry, self.compact_example
            else:
                with gr.Accordion("Documents in this collection", open=False):
                    records = self.assistant.corpus.records
                    table = gr.HTML(documents_html([records[n] for n in sorted(records)]), elem_id="rag-documents")
                    if self.uploads:
                        upload = gr.File(
                            file_count="multiple",
                            file_types=list(SUPPORTED_SUFFIXES),
                            label=f"Add documents (up to {self.max_upload_mb} MB each)",
                            elem_id="rag-upload",
                        )
                        add = gr.Button("Add to the collection", elem_id="rag-add")
                        doomed = gr.Dropdown(
                            names, value=[], multiselect=True, label="Remove documents", elem_id="rag-remove-choice"
                        )
                        remove = gr.Button("Remove", variant="stop", elem_id="rag-remove")
                        status = gr.HTML("", elem_id="rag-doc-status")
                with gr.Accordion("The whole document, with the cited words highlighted", open=False):
                    doc_choice = gr.Dropdown(names, value=names[0] if names else None, show_label=False)
                    doc_view = gr.HTML(document_html(self.texts, names[0] if names else "", None), js_on_load=None)
                doc_choice.change(
                    self.show_document, [doc_choice, answers], doc_view, api_visibility="private", queue=False
                )
                if self.uploads:
                    changed = [status, table, doomed, doc_choice]
                    add.click(self.add_documents, [upload], changed, api_visibility="private", concurrency_limit=1)
                    remove.click(
                        self.remove_documents, [doomed], changed, api_visibility="private", concurrency_limit=1
                    )
                outputs = [box, chat, answers, sources, doc_choice, doc_view]
                respond, retry, example = self.respond, self.retry, self.example
                gr.api(self.api_ask, api_name="ask")  # type: ignore[attr-defined]
            private: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
            box.submit(respond, [box, answers], outputs, **private)
            send.click(respond, [box, answers], outputs, **private)
            chat.retry(retry, [answers], outputs, **private)
            chat.example_select(example, [answers], outputs, **private)
            chat.clear(lambda: self.clear()[: len(outputs)], None, outputs, queue=False, api_visibility="private")
        return blocks  # type: ignore[no-any-return]


def _chain(first: StreamEvent, rest: Iterator[StreamEvent]) -> Iterator[StreamEvent]:
    yield first
    yield from rest
